"""Analytic ray casting against the street's primitives, vectorised over rays x primitives.

Every ray starts at the camera; directions are unit vectors of shape (N, 3). Each
``*_distances`` function returns, per ray and primitive, the distance along the ray to the first
surface hit in front of the camera (inf where the ray misses); ``*_normals`` give the outward
unit normal at hit points of given primitives. ``nearest_hits`` keeps the closest of all,
testing only the primitives whose bounding boxes a band of rays can reach (an exact cull)."""
from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch

EPS = 1e-4  # hits closer than this to the camera are ignored
INF = float("inf")
CULL_MARGIN = 1e-3  # radians

SKY, GROUND, BOX, CYLINDER, SPHERE = range(5)  # what a ray hit


def pairwise_dot(a, b):
    """(N, K) dot products of rows of a (N, D) and b (K, D), summed in a fixed order (unlike a
    matrix product, whose rounding may depend on the sizes), so a ray's result never depends on
    which other rays or primitives share its batch."""
    return sum(a[:, i, None] * b[None, :, i] for i in range(a.shape[1]))


def ground_distances(origin, dirs):
    """(N,) distances to the plane z = 0 (only rays pointing down reach it)."""
    dz = dirs[:, 2]
    return torch.where(dz < 0, -origin[2] / dz.clamp(max=-1e-12), INF)


def box_distances(boxes, origin, dirs):
    """(N, B) slab test against axis-aligned boxes (x0, y0, z0, x1, y1, z1), seen from outside."""
    inverse = 1.0 / torch.where(dirs.abs() < 1e-12, torch.full_like(dirs, 1e-12), dirs)
    t0 = (boxes[None, :, :3] - origin) * inverse[:, None, :]
    t1 = (boxes[None, :, 3:] - origin) * inverse[:, None, :]
    near = torch.minimum(t0, t1).amax(dim=2)
    far = torch.maximum(t0, t1).amin(dim=2)
    return torch.where((near <= far) & (near > EPS), near, INF)


def cylinder_distances(cylinders, origin, dirs):
    """(N, C) distances to vertical cylinders (x, y, radius, z0, z1): the side, or the top cap."""
    centre = cylinders[:, :2] - origin[:2]                      # (C, 2), relative to the camera
    radius2 = cylinders[:, 2] ** 2
    z0, z1 = cylinders[:, 3], cylinders[:, 4]
    flat = dirs[:, :2]                                          # (N, 2)
    a = (flat ** 2).sum(dim=1, keepdim=True).clamp(min=1e-12)   # (N, 1)
    b = pairwise_dot(flat, centre)                              # (N, C)
    disc = b ** 2 - a * ((centre ** 2).sum(dim=1) - radius2)
    side = (b - disc.clamp(min=0).sqrt()) / a
    z_side = origin[2] + side * dirs[:, 2:3]
    side = torch.where((disc >= 0) & (side > EPS) & (z_side >= z0) & (z_side <= z1), side, INF)
    down = dirs[:, 2:3] < 0                                     # only rays going down see a top
    cap = (z1 - origin[2]) / dirs[:, 2:3].clamp(max=-1e-12)
    off_axis2 = a * cap ** 2 - 2 * b * cap + (centre ** 2).sum(dim=1)
    cap = torch.where(down & (cap > EPS) & (off_axis2 <= radius2), cap, INF)
    return torch.minimum(side, cap)


def sphere_distances(spheres, origin, dirs):
    """(N, S) distances to spheres (x, y, z, radius)."""
    centre = spheres[:, :3] - origin                            # (S, 3)
    b = pairwise_dot(dirs, centre)                              # (N, S)
    disc = b ** 2 - ((centre ** 2).sum(dim=1) - spheres[:, 3] ** 2)
    t = b - disc.clamp(min=0).sqrt()
    return torch.where((disc >= 0) & (t > EPS), t, INF)


def box_normals(boxes, points):
    """(n, 3) normals of the box faces nearest to ``points`` (one box per point)."""
    gaps = torch.cat([points - boxes[:, :3], boxes[:, 3:] - points], dim=1).abs()
    face = gaps.argmin(dim=1)
    normals = torch.zeros_like(points)
    sign = torch.where(face < 3, -1.0, 1.0).to(points.dtype)
    return normals.scatter_(1, (face % 3)[:, None], sign[:, None])


def cylinder_normals(cylinders, points):
    radial = (points[:, :2] - cylinders[:, :2]) / cylinders[:, 2:3]
    normals = torch.cat([radial, torch.zeros_like(radial[:, :1])], dim=1)
    on_cap = points[:, 2] >= cylinders[:, 4] - 1e-3
    return torch.where(on_cap[:, None], points.new_tensor([0.0, 0.0, 1.0]), normals)


def sphere_normals(spheres, points):
    return (points - spheres[:, :3]) / spheres[:, 3:4]


def box_bounds(boxes):
    return boxes


def cylinder_bounds(cylinders):
    x, y, radius, z0, z1 = cylinders.unbind(dim=1)
    return torch.stack([x - radius, y - radius, z0, x + radius, y + radius, z1], dim=1)


def sphere_bounds(spheres):
    return torch.cat([spheres[:, :3] - spheres[:, 3:], spheres[:, :3] + spheres[:, 3:]], dim=1)


def elevation_ranges(bounds, origin):
    """(lo, hi) elevation angles (radians) outside which no ray from ``origin`` can meet the
    bounding box (x0, y0, z0, x1, y1, z1): a conservative cull, widened by a safety margin."""
    lo_xy, hi_xy = bounds[:, :2] - origin[:2], bounds[:, 3:5] - origin[:2]
    near = torch.maximum(torch.maximum(lo_xy, -hi_xy), torch.zeros_like(lo_xy)).norm(dim=1)
    far = torch.maximum(lo_xy.abs(), hi_xy.abs()).norm(dim=1)
    below, above = bounds[:, 2] - origin[2], bounds[:, 5] - origin[2]
    lo = torch.atan2(below, torch.where(below < 0, near, far))
    hi = torch.atan2(above, torch.where(above > 0, near, far))
    return lo - CULL_MARGIN, hi + CULL_MARGIN


class Primitive(NamedTuple):
    attribute: str  # the World's Shapes of this kind
    distances: Callable
    normals: Callable
    bounds: Callable  # geometry -> axis-aligned bounding boxes (N, 6)


PRIMITIVES = {
    BOX: Primitive("boxes", box_distances, box_normals, box_bounds),
    CYLINDER: Primitive("cylinders", cylinder_distances, cylinder_normals, cylinder_bounds),
    SPHERE: Primitive("spheres", sphere_distances, sphere_normals, sphere_bounds),
}


@dataclass
class Hits:
    """Per ray: distance (inf for sky), what was hit (SKY, GROUND, BOX, ...) and which one."""
    distance: torch.Tensor  # (N,) float32
    kind: torch.Tensor      # (N,) int64
    index: torch.Tensor     # (N,) int64, into the World's Shapes of that kind

    def points(self, origin, dirs):
        return origin + self.distance[:, None] * dirs


def nearest_hits(world, origin, dirs) -> Hits:
    """The closest surface along each ray; ties go to the earlier kind and primitive. Only the
    primitives within the rays' range of elevation are tested (rays come in bands of rows)."""
    elevation = torch.asin(dirs[:, 2].clamp(-1, 1))
    lowest, highest = elevation.min(), elevation.max()
    distances = [ground_distances(origin, dirs)]
    indices = [torch.zeros(len(dirs), dtype=torch.int64)]
    kinds = [GROUND]
    for kind, primitive in PRIMITIVES.items():
        geometry = getattr(world, primitive.attribute).geometry
        lo, hi = elevation_ranges(primitive.bounds(geometry), origin)
        candidates = ((hi >= lowest) & (lo <= highest)).nonzero()[:, 0]
        if len(candidates):
            t, index = primitive.distances(geometry[candidates], origin, dirs).min(dim=1)
            distances.append(t)
            indices.append(candidates[index])
            kinds.append(kind)
    t, which = torch.stack(distances, dim=1).min(dim=1)
    index = torch.stack(indices, dim=1).gather(1, which[:, None])[:, 0]
    kind = torch.tensor(kinds)[which]
    return Hits(distance=t, kind=torch.where(torch.isinf(t), SKY, kind), index=index)
