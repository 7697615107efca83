"""Colours for ray hits: procedural textures per material, Lambertian sun light, distance haze,
and a sky with a gradient, a sun glow and clouds. Labels never depend on anything here: they
come from what the ray hit, so a texture cannot disturb them: each ray gets the Cityscapes
instance id of the primitive it hit (sky: the sky's train id)."""
from typing import NamedTuple

import torch

from . import raycast
from .cityscapes import SKY_FINE
from .world import ASPHALT, CAR_BODY, CAR_CABIN, CLOTHES, FACADE, FOLIAGE, GRASS, PAVING, PLAIN

_M32 = 0xFFFFFFFF
UP = (0.0, 0.0, 1.0)


def cell_hash(ix, iy, iz):
    """Integer lattice -> [0, 1], exact integer arithmetic (no overflow: 32-bit operands)."""
    h = ((ix & _M32) * 73856093) ^ ((iy & _M32) * 19349663) ^ ((iz & _M32) * 83492791)
    h = ((h & _M32) ^ ((h & _M32) >> 13)) * 1274126177 & _M32
    return ((h ^ (h >> 16)) & 0xFFFF).to(torch.float32) / 0xFFFF


def value_noise(points):
    """Smooth 3-D value noise in [0, 1] at (n, 3) points (trilinear over hashed lattice values,
    smoothstep-faded)."""
    base = points.floor()
    cell = base.to(torch.int64)
    f = points - base
    fade = f * f * (3 - 2 * f)
    total = torch.zeros_like(points[:, 0])
    for corner in range(8):
        offset = [(corner >> axis) & 1 for axis in range(3)]
        weight = torch.ones_like(total)
        for axis, o in enumerate(offset):
            weight = weight * (fade[:, axis] if o else 1 - fade[:, axis])
        total += weight * cell_hash(*(cell[:, axis] + o for axis, o in enumerate(offset)))
    return total


def fbm(points, octaves=3):
    """Fractal sum of value noise octaves, in [0, 1]."""
    total, amplitude, norm = torch.zeros_like(points[:, 0]), 1.0, 0.0
    for octave in range(octaves):
        total += amplitude * value_noise(points * 2.0 ** octave)
        norm += amplitude
        amplitude *= 0.5
    return total / norm


def smoothstep(lo, hi, x):
    t = ((x - lo) / (hi - lo)).clamp(0, 1)
    return t * t * (3 - 2 * t)


def mix(a, b, w):
    """a where w = 0, b where w = 1; w has shape (n,)."""
    return a + (b - a) * w[:, None]


def sky_colour(world, dirs):
    """Gradient from the horizon to the zenith, a glow around the sun, clouds."""
    horizon, zenith = dirs.new_tensor(world.sky_horizon), dirs.new_tensor(world.sky_zenith)
    up = dirs[:, 2].clamp(min=0)
    colour = mix(horizon.expand_as(dirs), zenith.expand_as(dirs), up.sqrt())
    towards_sun = (dirs @ dirs.new_tensor(world.sun)).clamp(min=0)
    glow = 0.7 * towards_sun ** 400 + 0.2 * towards_sun ** 8
    colour = colour + glow[:, None] * dirs.new_tensor([1.0, 0.95, 0.85])
    # clouds on a far plane above the camera, thinned out towards the horizon
    plane = dirs[:, :2] / (dirs[:, 2:3].clamp(min=0) + 0.08) * 2.0
    layer = torch.full_like(plane[:, :1], float(world.seed % 997) * 3.7)
    density = fbm(torch.cat([plane, layer], dim=1), octaves=4)
    threshold = 0.72 - 0.35 * world.cloudiness
    cover = smoothstep(threshold, threshold + 0.2, density) * smoothstep(0.0, 0.15, up)
    cloud = dirs.new_tensor([0.95, 0.95, 0.96]) * (0.75 + 0.25 * density[:, None])
    return mix(colour, cloud, cover)


class Surface(NamedTuple):
    """Hit points on one kind of primitive, with the hit primitive's parameters per point."""
    point: torch.Tensor
    normal: torch.Tensor
    geometry: torch.Tensor
    colour: torch.Tensor
    colour2: torch.Tensor
    pattern: torch.Tensor

    def select(self, mask):
        return Surface(*(field[mask] for field in self))


def plain(s):
    """The colour with a little mottling."""
    return s.colour * (0.9 + 0.2 * value_noise(s.point * 3.0))[:, None]


def facade(s):
    """Walls with storeys of windows (shop fronts on the ground floor), darker roofs."""
    lo, hi = s.geometry[:, :3], s.geometry[:, 3:]
    floor_height, spacing = s.pattern[:, 0], s.pattern[:, 1]
    facing_x = s.normal[:, 0].abs() > 0.5
    u = torch.where(facing_x, s.point[:, 1] - lo[:, 1], s.point[:, 0] - lo[:, 0])
    width = torch.where(facing_x, hi[:, 1] - lo[:, 1], hi[:, 0] - lo[:, 0])
    bay = width / (width / spacing).floor().clamp(min=1)  # whole window bays across the face
    z = s.point[:, 2]
    storey, across, up = (z / floor_height).floor(), (u / bay).frac(), (z / floor_height).frac()
    ground_floor = storey == 0
    half_width = torch.where(ground_floor, 0.4, 0.22)
    bottom = torch.where(ground_floor, 0.12, 0.3)
    window = ((across - 0.5).abs() < half_width) & (up > bottom) & (up < 0.8)
    window &= (z < hi[:, 2] - 0.5) & (s.normal[:, 2].abs() < 0.5)
    wall = s.colour * (0.8 + 0.3 * value_noise(s.point * 0.7))[:, None]
    wall = torch.where((up < 0.05)[:, None], wall * 0.8, wall)  # a ledge at each floor
    lit = cell_hash((u / bay).floor().long(), storey.long(), (lo[:, 0] + 3 * lo[:, 1]).long())
    glass = s.colour2 * (0.6 + 0.9 * lit)[:, None]
    roof = s.colour * 0.55
    albedo = torch.where(window[:, None], glass, wall)
    return torch.where((s.normal[:, 2] > 0.5)[:, None], roof, albedo)


def car_body(s):
    """Paint above, tyres and bumpers (near black) below 0.42 m."""
    low = (s.point[:, 2] < 0.42)[:, None]
    return torch.where(low, s.colour.new_tensor([0.06, 0.06, 0.07]), s.colour)


def car_cabin(s):
    """Glass all round, painted roof."""
    roof = (s.normal[:, 2] > 0.5)[:, None]
    return torch.where(roof, s.colour, s.colour2)


def clothes(s):
    """Trousers up to the hips (``pattern[0]``), the shirt above."""
    legs = (s.point[:, 2] < s.pattern[:, 0])[:, None]
    return torch.where(legs, s.colour2, s.colour)


def foliage(s):
    return s.colour * (0.5 + 0.9 * fbm(s.point * 1.5))[:, None]


SHAPE_TEXTURES = {PLAIN: plain, FACADE: facade, CAR_BODY: car_body, CAR_CABIN: car_cabin,
                  CLOTHES: clothes, FOLIAGE: foliage}


def road(world, points, colour):
    """Asphalt with a dashed centre line and solid edge lines."""
    x, y = points[:, 0], points[:, 1]
    grain = 0.08 * value_noise(points * 0.5) + 0.12 * value_noise(points * 6.0)
    asphalt = colour * (0.9 + grain)[:, None]
    centre = (x.abs() < 0.08) & ((y / 9.0).frac().abs() < 0.4)
    edge = ((x.abs() - (world.road_half_width - 0.3)).abs() < 0.08)
    return torch.where((centre | edge)[:, None], colour.new_tensor([0.9, 0.9, 0.86]), asphalt)


def paving(world, points, colour):
    """Square slabs of slightly varying shade with darker joints."""
    slab = (points[:, :2] / 0.6)
    joint = (slab.frac().abs() < 0.06).any(dim=1)
    cell = slab.floor().long()
    shade = 0.85 + 0.25 * cell_hash(cell[:, 0], cell[:, 1], torch.zeros_like(cell[:, 0]))
    return torch.where(joint[:, None], colour * 0.7, colour * shade[:, None])


def grass(world, points, colour):
    return colour * (0.6 + 0.7 * fbm(points * 1.2))[:, None]


GROUND_TEXTURES = {ASPHALT: road, PAVING: paving, GRASS: grass}


def by_material(material, textures, texture_rows):
    """(n, 3) albedo: for each material m present, ``texture_rows(textures[m], rows of m)``."""
    albedo = torch.empty(len(material), 3)
    for key, texture in textures.items():
        rows = material == key
        if rows.any():
            albedo[rows] = texture_rows(texture, rows)
    return albedo


def ground_surface(world, points):
    """Instance ids, albedo and normals of ground points, by the band of x each falls in."""
    band = torch.bucketize(points[:, 0].contiguous(), world.ground.edges)
    colour = world.ground.colour[band]
    albedo = by_material(world.ground.material[band], GROUND_TEXTURES,
                         lambda texture, rows: texture(world, points[rows], colour[rows]))
    return world.ground.instance[band], albedo, points.new_tensor(UP).expand_as(points)


def shape_surface(world, kind, index, points):
    """Instance ids, albedo and normals of points on the primitives ``index`` of ``kind``."""
    primitive = raycast.PRIMITIVES[kind]
    shapes = getattr(world, primitive.attribute)
    geometry = shapes.geometry[index]
    normals = primitive.normals(geometry, points)
    surface = Surface(points, normals, geometry, shapes.colour[index], shapes.colour2[index],
                      shapes.pattern[index])
    albedo = by_material(shapes.material[index], SHAPE_TEXTURES,
                         lambda texture, rows: texture(surface.select(rows)))
    return shapes.instance[index], albedo, normals


def sunlight(world, normals):
    """Lambertian sun plus a sky ambient that is brighter on upward faces."""
    direct = (normals @ normals.new_tensor(world.sun)).clamp(min=0)
    return (0.45 + 0.1 * normals[:, 2] + 0.6 * direct)[:, None]


def shade(world, hits, origin, dirs):
    """(rgb (N, 3) float32 in [0, 1], instance ids (N,) int64) for rays with the given hits."""
    rgb = torch.empty_like(dirs)
    labels = torch.full((len(dirs),), SKY_FINE, dtype=torch.int64)
    sky = hits.kind == raycast.SKY
    rgb[sky] = sky_colour(world, dirs[sky])
    points = hits.points(origin, dirs)
    horizon = dirs.new_tensor(world.sky_horizon)
    for kind in (raycast.GROUND, *raycast.PRIMITIVES):
        rows = hits.kind == kind
        if not rows.any():
            continue
        if kind == raycast.GROUND:
            labels[rows], albedo, normals = ground_surface(world, points[rows])
        else:
            labels[rows], albedo, normals = shape_surface(world, kind, hits.index[rows],
                                                          points[rows])
        haze = 1 - torch.exp(-hits.distance[rows] / world.fog_distance)
        rgb[rows] = mix(albedo * sunlight(world, normals), horizon.expand_as(albedo), haze)
    return rgb.clamp(0, 1), labels
