"""The procedural street that the renderer ray-casts: a seeded, deterministic description made of
a few batched primitive kinds (axis-aligned boxes, vertical cylinders, spheres) standing on the
ground plane z = 0, each primitive carrying its CVRG-Pano label.

World axes: x east, y north, z up, metres. The road runs along y, centred on x = 0. Sampling
uses Python's ``random.Random``, whose stream is stable across Python versions, so a seed means
the same street everywhere."""
import math
import random
from dataclasses import dataclass

import torch

from .palette import CONSTRUCTION, FLAT, NATURE, OBJECT, PERSON, UNLABELLED, VEHICLE

# Surface materials: how shading.py textures a primitive (the label says what it is).
PLAIN, FACADE, CAR_BODY, CAR_CABIN, CLOTHES, FOLIAGE = range(6)
# Ground materials, one per band of x across the street.
ROAD, PAVING, GRASS = range(3)

STREET_LENGTH = 90.0   # buildings line the street for y in [-STREET_LENGTH, STREET_LENGTH]
TRAFFIC_LENGTH = 60.0  # cars, people, lights and trees stay within |y| < TRAFFIC_LENGTH
MAX_CARS = 6
CAMERA_CLEARANCE = 1.0  # no primitive comes closer than this to the camera, horizontally

FACADE_COLOURS = ((0.82, 0.75, 0.62), (0.62, 0.32, 0.25), (0.60, 0.60, 0.60), (0.88, 0.87, 0.84),
                  (0.80, 0.62, 0.35), (0.50, 0.56, 0.62), (0.85, 0.65, 0.62), (0.38, 0.37, 0.40))
CAR_COLOURS = ((0.92, 0.92, 0.92), (0.08, 0.08, 0.09), (0.65, 0.67, 0.70), (0.70, 0.10, 0.10),
               (0.12, 0.22, 0.55), (0.15, 0.35, 0.22), (0.85, 0.75, 0.20))
SIGN_COLOURS = ((0.80, 0.10, 0.10), (0.10, 0.25, 0.70), (0.95, 0.95, 0.95), (0.95, 0.75, 0.10))
SKIN_COLOURS = ((0.95, 0.80, 0.68), (0.80, 0.60, 0.45), (0.55, 0.38, 0.26), (0.35, 0.24, 0.16))


@dataclass(frozen=True, eq=False)
class Shapes:
    """A batch of primitives of one kind. ``geometry`` rows are: box (x0, y0, z0, x1, y1, z1);
    cylinder (x, y, radius, z0, z1); sphere (x, y, z, radius). ``colour2`` and ``pattern`` are
    material parameters: window glass and (floor height, window spacing) for facades, glass for
    car cabins, trousers and leg length for clothes."""
    geometry: torch.Tensor  # (N, k) float32
    label: torch.Tensor     # (N,) int64
    material: torch.Tensor  # (N,) int64
    colour: torch.Tensor    # (N, 3) float32 in [0, 1]
    colour2: torch.Tensor   # (N, 3) float32 in [0, 1]
    pattern: torch.Tensor   # (N, 2) float32

    def __len__(self):
        return self.geometry.shape[0]


@dataclass(frozen=True, eq=False)
class Ground:
    """Bands of x across the street (road, verges, sidewalks, what lies beyond): band i covers
    edges[i-1] < x <= edges[i], the outermost bands run to infinity."""
    edges: torch.Tensor     # (K - 1,) float32, increasing
    label: torch.Tensor     # (K,) int64
    material: torch.Tensor  # (K,) int64
    colour: torch.Tensor    # (K, 3) float32


@dataclass(frozen=True, eq=False)
class World:
    """Everything the renderer needs; build one with ``World.random(seed)``."""
    seed: int
    camera: tuple            # (x, y, z), metres
    sun: tuple               # unit vector towards the sun
    road_half_width: float
    ground: Ground
    boxes: Shapes
    cylinders: Shapes
    spheres: Shapes
    sky_zenith: tuple
    sky_horizon: tuple
    cloudiness: float        # 0 clear .. 1 overcast
    fog_distance: float      # metres at which 63 % of a surface's colour has faded into haze

    @classmethod
    def random(cls, seed: int) -> "World":
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        return _StreetSampler(seed).world()

    @property
    def num_primitives(self) -> int:
        return len(self.boxes) + len(self.cylinders) + len(self.spheres)


class _ShapeList:
    """Accumulates primitives of one kind, then packs them into a ``Shapes``."""

    def __init__(self, width: int):
        self.width, self.rows = width, []

    def add(self, geometry, label, colour, material=PLAIN, colour2=(0.0, 0.0, 0.0),
            pattern=(0.0, 0.0)):
        self.rows.append((geometry, label, material, colour, colour2, pattern))

    def build(self) -> Shapes:
        columns = list(zip(*self.rows)) if self.rows else [()] * 6
        geometry, label, material, colour, colour2, pattern = columns
        return Shapes(geometry=torch.tensor(geometry, dtype=torch.float32).reshape(-1, self.width),
                      label=torch.tensor(label, dtype=torch.int64),
                      material=torch.tensor(material, dtype=torch.int64),
                      colour=torch.tensor(colour, dtype=torch.float32).reshape(-1, 3),
                      colour2=torch.tensor(colour2, dtype=torch.float32).reshape(-1, 3),
                      pattern=torch.tensor(pattern, dtype=torch.float32).reshape(-1, 2))


class _StreetSampler:
    """Draws one street from a seed: layout across the street first, then the camera, then the
    objects along it (each kept clear of the camera)."""

    def __init__(self, seed: int):
        self.seed, self.rng = seed, random.Random(seed)
        self.boxes, self.cylinders, self.spheres = _ShapeList(6), _ShapeList(5), _ShapeList(4)

    # -- helpers -----------------------------------------------------------------------------
    def uniform(self, lo, hi):
        return self.rng.uniform(lo, hi)

    def jitter(self, colour, amount=0.1):
        """A per-object variation of a base colour: overall brightness and per-channel tint."""
        gain = self.uniform(1 - amount, 1 + amount)
        return tuple(min(1.0, max(0.0, c * gain * self.uniform(1 - amount / 2, 1 + amount / 2)))
                     for c in colour)

    def clear(self, x0, y0, x1, y1, margin=CAMERA_CLEARANCE):
        """True when the rectangle [x0, x1] x [y0, y1] stays ``margin`` away from the camera."""
        cx, cy, _ = self.camera
        dx = max(x0 - cx, 0.0, cx - x1)
        dy = max(y0 - cy, 0.0, cy - y1)
        return math.hypot(dx, dy) > margin

    # -- the street ----------------------------------------------------------------------------
    def world(self) -> World:
        self.layout()
        self.place_camera()
        for side in (-1, 1):
            self.buildings(side)
            self.street_lights(side)
            self.trees(side)
        self.cross_buildings()
        self.cars()
        self.people()
        self.signs()
        self.clutter()
        elevation, azimuth = math.radians(self.uniform(20, 65)), math.radians(self.uniform(0, 360))
        sun = (math.cos(elevation) * math.sin(azimuth), math.cos(elevation) * math.cos(azimuth),
               math.sin(elevation))
        return World(seed=self.seed, camera=self.camera, sun=sun, road_half_width=self.road,
                     ground=self.ground(), boxes=self.boxes.build(),
                     cylinders=self.cylinders.build(), spheres=self.spheres.build(),
                     sky_zenith=self.jitter((0.22, 0.42, 0.82)),
                     sky_horizon=self.jitter((0.78, 0.86, 0.94), 0.05),
                     cloudiness=self.uniform(0.0, 0.8), fog_distance=self.uniform(250, 900))

    def layout(self):
        """Road half-width, and per side: grass verge, sidewalk, and what lies beyond."""
        self.road = self.uniform(3.2, 6.5)
        self.verge = {s: self.uniform(0.8, 2.0) if self.rng.random() < 0.5 else 0.0
                      for s in (-1, 1)}
        self.sidewalk = {s: self.uniform(2.0, 4.5) for s in (-1, 1)}
        self.beyond_grass = {s: self.rng.random() < 0.4 for s in (-1, 1)}
        self.asphalt = self.jitter((0.30, 0.30, 0.32))
        self.paving = self.jitter((0.62, 0.60, 0.56))
        self.grass = self.jitter((0.30, 0.50, 0.20))

    def sidewalk_range(self, side):
        """|x| range of the sidewalk on ``side``."""
        inner = self.road + self.verge[side]
        return inner, inner + self.sidewalk[side]

    def on_a_sidewalk(self, margin):
        """x of a random point on either sidewalk, at least ``margin`` from its edges."""
        side = self.rng.choice((-1, 1))
        inner, outer = self.sidewalk_range(side)
        return side * self.uniform(inner + margin, outer - margin)

    def ground(self) -> Ground:
        """Seven bands, west to east: beyond, sidewalk, verge, road, verge, sidewalk, beyond."""
        (in_w, out_w), (in_e, out_e) = self.sidewalk_range(-1), self.sidewalk_range(1)
        sidewalk, verge = (FLAT, PAVING, self.paving), (NATURE, GRASS, self.grass)
        beyond = {s: verge if self.beyond_grass[s] else sidewalk for s in (-1, 1)}
        road = (FLAT, ROAD, self.asphalt)
        label, material, colour = zip(beyond[-1], sidewalk, verge, road, verge, sidewalk, beyond[1])
        return Ground(edges=torch.tensor([-out_w, -in_w, -self.road, self.road, in_e, out_e]),
                      label=torch.tensor(label), material=torch.tensor(material),
                      colour=torch.tensor(colour))

    def place_camera(self):
        """On the road (most of the time) or on a sidewalk, 2-2.5 m above the ground."""
        if self.rng.random() < 0.7:
            x = self.uniform(-self.road + 1.0, self.road - 1.0)
        else:
            x = self.on_a_sidewalk(margin=0.5)
        self.camera = (x, 0.0, self.uniform(2.0, 2.5))

    def buildings(self, side):
        """A row of blocks of varied width, height, depth and setback, with occasional alleys."""
        front = self.sidewalk_range(side)[1]
        y = -STREET_LENGTH + self.uniform(-8, 0)
        while y < STREET_LENGTH:
            width = self.uniform(8, 24)
            if self.rng.random() < 0.12:
                y += self.uniform(3, 10)  # an alley
            setback = self.uniform(0, 4) if self.rng.random() < 0.5 else 0.0
            near, far = front + setback, front + setback + self.uniform(8, 20)
            height = self.uniform(5, 12) if self.rng.random() < 0.5 else self.uniform(12, 35)
            x0, x1 = sorted((side * near, side * far))
            self.add_building((x0, y, 0.0, x1, y + width, height))
            y += width

    def cross_buildings(self):
        """Sometimes the street ends in a block across it (a T-junction far ahead or behind)."""
        for direction in (-1, 1):
            if self.rng.random() < 0.5:
                near = STREET_LENGTH + self.uniform(0, 40)
                y0, y1 = sorted((direction * near, direction * (near + 15)))
                self.add_building((-60.0, y0, 0.0, 60.0, y1, self.uniform(8, 30)))

    def add_building(self, box):
        self.boxes.add(box, CONSTRUCTION, self.jitter(self.rng.choice(FACADE_COLOURS)), FACADE,
                       colour2=self.jitter((0.16, 0.22, 0.30), 0.3),
                       pattern=(self.uniform(2.8, 3.6), self.uniform(1.6, 3.2)))

    def cars(self):
        """Cars in the two lanes at varied gaps, at most ``MAX_CARS``."""
        count = 0
        for lane in (-0.5, 0.5):
            y = -TRAFFIC_LENGTH + self.uniform(0, 15)
            while y < TRAFFIC_LENGTH and count < MAX_CARS:
                length, width = self.uniform(3.8, 4.8), self.uniform(1.7, 1.9)
                x = lane * self.road + self.uniform(-0.3, 0.3)
                wanted = self.rng.random() < 0.5
                if wanted and self.clear(x - width / 2, y, x + width / 2, y + length):
                    self.add_car(x, y, length, width)
                    count += 1
                y += length + self.uniform(2, 14)

    def add_car(self, x, y, length, width):
        colour = self.jitter(self.rng.choice(CAR_COLOURS))
        top = self.uniform(0.85, 1.0)
        self.boxes.add((x - width / 2, y, 0.15, x + width / 2, y + length, top), VEHICLE,
                       colour, CAR_BODY)
        inset, front, back = 0.12, self.uniform(0.25, 0.35), self.uniform(0.15, 0.25)
        roof = top + self.uniform(0.45, 0.6)
        self.boxes.add((x - width / 2 + inset, y + back * length, top,
                        x + width / 2 - inset, y + (1 - front) * length, roof),
                       VEHICLE, colour, CAR_CABIN, colour2=self.jitter((0.10, 0.13, 0.17), 0.3))

    def people(self):
        """Pedestrians on the sidewalks: a body cylinder (trousers below the hips) and a head."""
        for _ in range(self.rng.randint(2, 7)):
            x, y = self.on_a_sidewalk(margin=0.4), self.uniform(-40, 40)
            radius, height = self.uniform(0.17, 0.24), self.uniform(1.55, 1.9)
            if not self.clear(x - radius, y - radius, x + radius, y + radius):
                continue
            shirt = self.jitter((self.rng.random(), self.rng.random(), self.rng.random()), 0.2)
            trousers = self.jitter((0.15, 0.15, 0.2), 0.5)
            self.cylinders.add((x, y, radius, 0.0, height - 0.25), PERSON, shirt, CLOTHES,
                               colour2=trousers, pattern=(0.45 * height, 0.0))
            self.spheres.add((x, y, height - 0.12, 0.12), PERSON,
                             self.jitter(self.rng.choice(SKIN_COLOURS)))

    def street_lights(self, side):
        """Poles at the kerb with an arm reaching over the road."""
        x = side * (self.road + 0.4)
        y = -TRAFFIC_LENGTH + self.uniform(0, 20)
        spacing = self.uniform(30, 50)
        grey = self.jitter((0.45, 0.46, 0.48))
        while y < TRAFFIC_LENGTH:
            height = self.uniform(6, 8)
            if self.clear(x - 0.1, y - 0.1, x + 0.1, y + 0.1):
                self.cylinders.add((x, y, 0.1, 0.0, height), OBJECT, grey)
                arm0, arm1 = sorted((x, x - side * 1.6))
                self.boxes.add((arm0, y - 0.1, height - 0.15, arm1, y + 0.1, height), OBJECT,
                               grey)
            y += spacing

    def signs(self):
        """A few traffic signs on posts at the kerb, their panels facing along the road."""
        for _ in range(self.rng.randint(0, 3)):
            side = self.rng.choice((-1, 1))
            x, y = side * (self.road + 0.3), self.uniform(-35, 35)
            if not self.clear(x - 0.4, y - 0.1, x + 0.4, y + 0.1):
                continue
            top = self.uniform(2.4, 3.0)
            self.cylinders.add((x, y, 0.04, 0.0, top), OBJECT, (0.55, 0.56, 0.58))
            self.boxes.add((x - 0.35, y - 0.03, top - 0.1, x + 0.35, y + 0.03, top + 0.6), OBJECT,
                           self.jitter(self.rng.choice(SIGN_COLOURS)))

    def trees(self, side):
        """A row of trees on the grass verge, or at the outer edge of the sidewalk."""
        if self.rng.random() < 0.3:
            return
        if self.verge[side]:
            x = side * (self.road + self.verge[side] / 2)
        else:
            x = side * (self.sidewalk_range(side)[1] - 0.6)
        y = -TRAFFIC_LENGTH + self.uniform(0, 10)
        spacing = self.uniform(14, 28)
        while y < TRAFFIC_LENGTH:
            trunk, crown = self.uniform(2.5, 4.0), self.uniform(1.5, 2.8)
            if self.clear(x - crown, y - crown, x + crown, y + crown):
                self.cylinders.add((x, y, self.uniform(0.12, 0.22), 0.0, trunk + crown * 0.5),
                                   NATURE, self.jitter((0.35, 0.25, 0.16)))
                self.spheres.add((x, y, trunk + crown, crown), NATURE,
                                 self.jitter((0.22, 0.42, 0.16), 0.25), FOLIAGE)
            y += spacing

    def clutter(self):
        """Unlabelled odds and ends on the sidewalks (bins, electrical boxes): CVRG-Pano's 0."""
        for _ in range(self.rng.randint(0, 2)):
            x, y = self.on_a_sidewalk(margin=0.4), self.uniform(-30, 30)
            half, height = self.uniform(0.25, 0.45), self.uniform(0.8, 1.4)
            if self.clear(x - half, y - half, x + half, y + half):
                self.boxes.add((x - half, y - half, 0.0, x + half, y + half, height), UNLABELLED,
                               self.jitter((0.30, 0.33, 0.30)))
