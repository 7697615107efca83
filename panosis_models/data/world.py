"""The procedural street that the renderer ray-casts: a seeded, deterministic description made of
a few batched primitive kinds (axis-aligned boxes, vertical cylinders, spheres) standing on the
ground plane z = 0, each primitive carrying the Cityscapes instance id of what it belongs to
(a stuff train id, void, or ``train_id * 1000 + k`` for the k-th object of a thing class in the
world, so one object keeps its id in every view). Labels follow from the ids (cityscapes.py).

World axes: x east, y north, z up, metres. The road runs along y, centred on x = 0. Sampling
uses Python's ``random.Random``, whose stream is stable across Python versions, so a seed means
the same street everywhere."""
import math
import random
from dataclasses import dataclass

import torch

from .cityscapes import (BICYCLE, BUILDING, BUS, CAR, FENCE, INSTANCE_STRIDE, MOTORCYCLE,
                         PERSON_FINE, POLE, RIDER, ROAD, SIDEWALK, TERRAIN, TRAFFIC_LIGHT,
                         TRAFFIC_SIGN, TRAIN, TRUCK, VEGETATION, VOID, WALL)

# Surface materials: how shading.py textures a primitive (the label says what it is).
PLAIN, FACADE, CAR_BODY, CAR_CABIN, CLOTHES, FOLIAGE = range(6)
# Ground materials, one per band of x across the street.
ASPHALT, PAVING, GRASS = range(3)

STREET_LENGTH = 90.0   # buildings line the street for y in [-STREET_LENGTH, STREET_LENGTH]
TRAFFIC_LENGTH = 60.0  # cars, people, lights and trees stay within |y| < TRAFFIC_LENGTH
MAX_VEHICLES = 7        # per world, both lanes together
# what occupies a slot in a lane, with its odds
VEHICLE_KINDS = (("car", 0.62), ("truck", 0.12), ("bus", 0.1), ("motorcycle", 0.08),
                 ("bicycle", 0.08))
TRAM_ODDS = 0.15        # a lane given over to one tram (Cityscapes' "train")
CAMERA_CLEARANCE = 1.0  # no primitive comes closer than this to the camera, horizontally

FACADE_COLOURS = ((0.82, 0.75, 0.62), (0.62, 0.32, 0.25), (0.60, 0.60, 0.60), (0.88, 0.87, 0.84),
                  (0.80, 0.62, 0.35), (0.50, 0.56, 0.62), (0.85, 0.65, 0.62), (0.38, 0.37, 0.40))
CAR_COLOURS = ((0.92, 0.92, 0.92), (0.08, 0.08, 0.09), (0.65, 0.67, 0.70), (0.70, 0.10, 0.10),
               (0.12, 0.22, 0.55), (0.15, 0.35, 0.22), (0.85, 0.75, 0.20))
SIGN_COLOURS = ((0.80, 0.10, 0.10), (0.10, 0.25, 0.70), (0.95, 0.95, 0.95), (0.95, 0.75, 0.10))
SKIN_COLOURS = ((0.95, 0.80, 0.68), (0.80, 0.60, 0.45), (0.55, 0.38, 0.26), (0.35, 0.24, 0.16))
WALL_COLOURS = ((0.72, 0.68, 0.60), (0.55, 0.35, 0.28), (0.62, 0.62, 0.64))
FENCE_COLOURS = ((0.35, 0.30, 0.25), (0.25, 0.35, 0.25), (0.50, 0.50, 0.52))


@dataclass(frozen=True, eq=False)
class Shapes:
    """A batch of primitives of one kind. ``geometry`` rows are: box (x0, y0, z0, x1, y1, z1);
    cylinder (x, y, radius, z0, z1); sphere (x, y, z, radius). ``colour2`` and ``pattern`` are
    material parameters: window glass and (floor height, window spacing) for facades, glass for
    car cabins, trousers and leg length for clothes."""
    geometry: torch.Tensor  # (N, k) float32
    instance: torch.Tensor  # (N,) int64 Cityscapes instance id
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
    instance: torch.Tensor  # (K,) int64: the band's stuff train id
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

    def add(self, geometry, instance, colour, material=PLAIN, colour2=(0.0, 0.0, 0.0),
            pattern=(0.0, 0.0)):
        self.rows.append((geometry, instance, material, colour, colour2, pattern))

    def build(self) -> Shapes:
        columns = list(zip(*self.rows)) if self.rows else [()] * 6
        geometry, instance, material, colour, colour2, pattern = columns
        return Shapes(geometry=torch.tensor(geometry, dtype=torch.float32).reshape(-1, self.width),
                      instance=torch.tensor(instance, dtype=torch.int64),
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
        self.instances = {}  # thing train id -> objects of that class so far

    # -- helpers -----------------------------------------------------------------------------
    def uniform(self, lo, hi):
        return self.rng.uniform(lo, hi)

    def jitter(self, colour, amount=0.1):
        """A per-object variation of a base colour: overall brightness and per-channel tint."""
        gain = self.uniform(1 - amount, 1 + amount)
        return tuple(min(1.0, max(0.0, c * gain * self.uniform(1 - amount / 2, 1 + amount / 2)))
                     for c in colour)

    def new_instance(self, train_id):
        """The id of a new object of a thing class: ``train_id * 1000 + k``, k = 0, 1, ..."""
        k = self.instances.get(train_id, 0)
        self.instances[train_id] = k + 1
        return train_id * INSTANCE_STRIDE + k

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
        self.traffic()
        self.people()
        self.signs()
        self.traffic_lights()
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
        sidewalk, verge = (SIDEWALK, PAVING, self.paving), (TERRAIN, GRASS, self.grass)
        beyond = {s: verge if self.beyond_grass[s] else sidewalk for s in (-1, 1)}
        road = (ROAD, ASPHALT, self.asphalt)
        label, material, colour = zip(beyond[-1], sidewalk, verge, road, verge, sidewalk, beyond[1])
        return Ground(edges=torch.tensor([-out_w, -in_w, -self.road, self.road, in_e, out_e]),
                      instance=torch.tensor(label), material=torch.tensor(material),
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
            if setback > 1.0:
                self.front_boundary(side, front + 0.3, y, y + width)
            y += width

    def front_boundary(self, side, x, y0, y1):
        """A low wall or a fence across the front yard of a set-back building."""
        if self.rng.random() < 0.5:
            thickness, height, kind = 0.3, self.uniform(0.8, 2.0), WALL
            colour = self.jitter(self.rng.choice(WALL_COLOURS))
        else:
            thickness, height, kind = 0.08, self.uniform(1.0, 1.8), FENCE
            colour = self.jitter(self.rng.choice(FENCE_COLOURS))
        x0, x1 = sorted((side * x, side * (x + thickness)))
        self.boxes.add((x0, y0, 0.0, x1, y1, height), kind, colour)

    def cross_buildings(self):
        """Sometimes the street ends in a block across it (a T-junction far ahead or behind)."""
        for direction in (-1, 1):
            if self.rng.random() < 0.5:
                near = STREET_LENGTH + self.uniform(0, 40)
                y0, y1 = sorted((direction * near, direction * (near + 15)))
                self.add_building((-60.0, y0, 0.0, 60.0, y1, self.uniform(8, 30)))

    def add_building(self, box):
        self.boxes.add(box, BUILDING, self.jitter(self.rng.choice(FACADE_COLOURS)), FACADE,
                       colour2=self.jitter((0.16, 0.22, 0.30), 0.3),
                       pattern=(self.uniform(2.8, 3.6), self.uniform(1.6, 3.2)))

    def traffic(self):
        """The two lanes: now and then one tram, otherwise vehicles at varied gaps, at most
        ``MAX_VEHICLES`` in all; bicycles and motorcycles carry riders."""
        count = 0
        for lane in (-0.5, 0.5):
            if self.rng.random() < TRAM_ODDS:
                self.tram(lane * self.road)
                continue
            y = -TRAFFIC_LENGTH + self.uniform(0, 15)
            while y < TRAFFIC_LENGTH and count < MAX_VEHICLES:
                kind = self.rng.choices([k for k, _ in VEHICLE_KINDS],
                                        [p for _, p in VEHICLE_KINDS])[0]
                length, width = VEHICLE_SIZES[kind](self)
                x = lane * self.road + self.uniform(-0.3, 0.3)
                wanted = self.rng.random() < 0.5
                if wanted and self.clear(x - width / 2, y, x + width / 2, y + length):
                    getattr(self, f"add_{kind}")(x, y, length, width)
                    count += 1
                y += length + self.uniform(2, 14)

    def add_car(self, x, y, length, width):
        colour = self.jitter(self.rng.choice(CAR_COLOURS))
        instance = self.new_instance(CAR)
        top = self.uniform(0.85, 1.0)
        self.boxes.add((x - width / 2, y, 0.15, x + width / 2, y + length, top), instance,
                       colour, CAR_BODY)
        inset, front, back = 0.12, self.uniform(0.25, 0.35), self.uniform(0.15, 0.25)
        roof = top + self.uniform(0.45, 0.6)
        self.boxes.add((x - width / 2 + inset, y + back * length, top,
                        x + width / 2 - inset, y + (1 - front) * length, roof),
                       instance, colour, CAR_CABIN, colour2=self.jitter((0.10, 0.13, 0.17), 0.3))

    def add_truck(self, x, y, length, width):
        """A cab (body and glass) in front of a tall cargo box touching it."""
        instance = self.new_instance(TRUCK)
        colour = self.jitter(self.rng.choice(CAR_COLOURS))
        cab = self.uniform(1.8, 2.4)
        heading = self.rng.choice((-1, 1))  # which end is the front
        cab_y0, cargo_y0 = (y + length - cab, y) if heading > 0 else (y, y + cab)
        self.boxes.add((x - width / 2, cab_y0, 0.3, x + width / 2, cab_y0 + cab, 1.5), instance,
                       colour, CAR_BODY)
        self.boxes.add((x - width / 2 + 0.05, cab_y0, 1.5, x + width / 2 - 0.05, cab_y0 + cab, 2.6),
                       instance, colour, CAR_CABIN, colour2=self.jitter((0.10, 0.13, 0.17), 0.3))
        self.boxes.add((x - width / 2, cargo_y0, 0.3, x + width / 2, cargo_y0 + length - cab,
                        self.uniform(3.0, 3.8)), instance,
                       self.jitter(self.rng.choice(FACADE_COLOURS)), CAR_BODY)

    def add_bus(self, x, y, length, width, train_id=BUS):
        """A long box: painted below, a band of windows above, a painted roof."""
        instance = self.new_instance(train_id)
        colour = self.jitter(self.rng.choice(CAR_COLOURS))
        waist, roof = self.uniform(1.1, 1.3), self.uniform(3.0, 3.4)
        self.boxes.add((x - width / 2, y, 0.3, x + width / 2, y + length, waist), instance,
                       colour, CAR_BODY)
        self.boxes.add((x - width / 2, y, waist, x + width / 2, y + length, roof), instance,
                       colour, CAR_CABIN, colour2=self.jitter((0.10, 0.13, 0.17), 0.3))

    def tram(self, x):
        """One long tram in a lane, kept clear of the camera."""
        length, width = self.uniform(20, 30), 2.4
        y = self.uniform(-TRAFFIC_LENGTH, TRAFFIC_LENGTH - length)
        if self.clear(x - width / 2, y, x + width / 2, y + length):
            self.add_bus(x, y, length, width, train_id=TRAIN)

    def add_two_wheeler(self, x, y, length, width, train_id, height, seat):
        """A bicycle or motorcycle (one box) with a rider sitting in it and showing above."""
        self.boxes.add((x - width / 2, y, 0.0, x + width / 2, y + length, height),
                       self.new_instance(train_id),
                       self.jitter(self.rng.choice(CAR_COLOURS)), PLAIN)
        self.person(x, y + length / 2, RIDER, bottom=seat)

    def add_bicycle(self, x, y, length, width):
        self.add_two_wheeler(x, y, length, width, BICYCLE, height=1.0, seat=0.75)

    def add_motorcycle(self, x, y, length, width):
        self.add_two_wheeler(x, y, length, width, MOTORCYCLE, height=1.15, seat=0.7)

    def person(self, x, y, train_id=PERSON_FINE, bottom=0.0):
        """A body cylinder (trousers below the hips) and a head overlapping its top."""
        radius, height = self.uniform(0.17, 0.24), self.uniform(1.55, 1.9)
        instance = self.new_instance(train_id)
        shirt = self.jitter((self.rng.random(), self.rng.random(), self.rng.random()), 0.2)
        trousers = self.jitter((0.15, 0.15, 0.2), 0.5)
        self.cylinders.add((x, y, radius, bottom, height - 0.2), instance, shirt, CLOTHES,
                           colour2=trousers, pattern=(0.45 * height, 0.0))
        self.spheres.add((x, y, height - 0.12, 0.12), instance,
                         self.jitter(self.rng.choice(SKIN_COLOURS)))

    def people(self):
        """Pedestrians on the sidewalks."""
        for _ in range(self.rng.randint(2, 7)):
            x, y = self.on_a_sidewalk(margin=0.4), self.uniform(-40, 40)
            if self.clear(x - 0.25, y - 0.25, x + 0.25, y + 0.25):
                self.person(x, y)

    def street_lights(self, side):
        """Poles at the kerb with an arm reaching over the road."""
        x = side * (self.road + 0.4)
        y = -TRAFFIC_LENGTH + self.uniform(0, 20)
        spacing = self.uniform(30, 50)
        grey = self.jitter((0.45, 0.46, 0.48))
        while y < TRAFFIC_LENGTH:
            height = self.uniform(6, 8)
            if self.clear(x - 0.1, y - 0.1, x + 0.1, y + 0.1):
                self.cylinders.add((x, y, 0.1, 0.0, height), POLE, grey)
                arm0, arm1 = sorted((x, x - side * 1.6))
                self.boxes.add((arm0, y - 0.1, height - 0.15, arm1, y + 0.1, height), POLE,
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
            self.cylinders.add((x, y, 0.04, 0.0, top), POLE, (0.55, 0.56, 0.58))
            self.boxes.add((x - 0.35, y - 0.03, top - 0.1, x + 0.35, y + 0.03, top + 0.6),
                           TRAFFIC_SIGN, self.jitter(self.rng.choice(SIGN_COLOURS)))

    def traffic_lights(self):
        """Signal heads (dark housings) on posts at the kerb, a few metres from the camera."""
        for _ in range(self.rng.randint(0, 2)):
            side = self.rng.choice((-1, 1))
            x, y = side * (self.road + 0.3), self.uniform(-25, 25)
            if not self.clear(x - 0.2, y - 0.2, x + 0.2, y + 0.2):
                continue
            top = self.uniform(2.6, 3.4)
            self.cylinders.add((x, y, 0.06, 0.0, top), POLE, (0.30, 0.31, 0.32))
            self.boxes.add((x - 0.16, y - 0.14, top - 0.2, x + 0.16, y + 0.14, top + 0.75),
                           TRAFFIC_LIGHT, self.jitter((0.12, 0.12, 0.10), 0.2))

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
                                   VEGETATION, self.jitter((0.35, 0.25, 0.16)))
                self.spheres.add((x, y, trunk + crown, crown), VEGETATION,
                                 self.jitter((0.22, 0.42, 0.16), 0.25), FOLIAGE)
            y += spacing

    def clutter(self):
        """Unlabelled odds and ends on the sidewalks (bins, electrical boxes): void, CVRG-Pano's 0."""
        for _ in range(self.rng.randint(0, 2)):
            x, y = self.on_a_sidewalk(margin=0.4), self.uniform(-30, 30)
            half, height = self.uniform(0.25, 0.45), self.uniform(0.8, 1.4)
            if self.clear(x - half, y - half, x + half, y + half):
                self.boxes.add((x - half, y - half, 0.0, x + half, y + half, height), VOID,
                               self.jitter((0.30, 0.33, 0.30)))


# (length, width) in metres of a vehicle of each kind, drawn from the street's generator
VEHICLE_SIZES = {
    "car": lambda street: (street.uniform(3.8, 4.8), street.uniform(1.7, 1.9)),
    "truck": lambda street: (street.uniform(6.0, 8.5), street.uniform(2.2, 2.5)),
    "bus": lambda street: (street.uniform(10.0, 12.5), street.uniform(2.4, 2.55)),
    "motorcycle": lambda street: (street.uniform(1.9, 2.2), street.uniform(0.6, 0.8)),
    "bicycle": lambda street: (street.uniform(1.6, 1.8), street.uniform(0.4, 0.55)),
}
