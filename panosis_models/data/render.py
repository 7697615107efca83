"""Renders a ``World`` into an equirectangular panorama or a pinhole view, with exact per-pixel
labels at the level asked for (CVRG-Pano categories, Cityscapes train ids or instance ids, all
from the same ray hits), following the project's geometry contract:

- panorama row y has latitude  phi(y) = 90 - (y + 1/2) * 180 / H      (top = +90 deg),
  column x has longitude       lam(x) = -180 + (x + 1/2) * 360 / W + yaw;
- a direction (phi, lam) is the unit vector  (cos phi sin lam, cos phi cos lam, sin phi)  in the
  world's axes x east, y north, z up: lam = 0 looks north along the road, lam = 90 looks east.

The camera stands at ``world.camera``; everything is deterministic for a given world. A tilted
panorama (``pitch``, ``roll``) is what a camera that is not level records: its pixel directions,
after the yaw, turned by ``roll`` about the north axis, then by ``pitch`` about the east axis."""
import math

import torch

from ._checks import check_fov, check_int
from .cityscapes import categories_from_fine, fine_from_instances
from .raycast import nearest_hits
from .shading import shade

RENDERER_VERSION = 2  # bump whenever a change alters rendered pixels (keys the data set cache)
RAYS_PER_CHUNK = 8192  # bounds the (rays x primitives) intermediates to a few MB
LEVELS = ("category", "fine", "instance")
MAX_TILT = 90.0  # degrees of pitch or roll a panorama camera may have


def _unit_vectors(phi, lam):
    """Directions for latitudes/longitudes in radians (float64 tensors of one shape)."""
    return torch.stack([phi.cos() * lam.sin(), phi.cos() * lam.cos(), phi.sin()], dim=-1)


def _tilt(dirs, pitch: float, roll: float):
    """``dirs`` (..., 3) float64 turned by ``roll`` degrees about the north axis (east goes
    down), then by ``pitch`` degrees about the east axis (north goes up)."""
    for name, angle in (("pitch", pitch), ("roll", roll)):
        if not -MAX_TILT <= angle <= MAX_TILT:
            raise ValueError(f"{name} must lie in [-{MAX_TILT:g}, {MAX_TILT:g}] degrees, "
                             f"got {angle!r}")
    p, r = math.radians(pitch), math.radians(roll)
    about_north = torch.tensor([[math.cos(r), 0, math.sin(r)], [0, 1, 0],
                                [-math.sin(r), 0, math.cos(r)]], dtype=torch.float64)
    about_east = torch.tensor([[1, 0, 0], [0, math.cos(p), -math.sin(p)],
                               [0, math.sin(p), math.cos(p)]], dtype=torch.float64)
    return dirs @ (about_east @ about_north).T


def panorama_directions(height: int, width: int, yaw: float = 0.0, pitch: float = 0.0,
                        roll: float = 0.0) -> torch.Tensor:
    """(H, W, 3) float32 unit directions of the panorama's pixel centres.

    The longitude is computed from the column plus ``yaw`` in columns, wrapped into one turn,
    so ``yaw = 360 / W`` gives exactly the directions of the next column (float64 throughout).
    A level camera (``pitch = roll = 0``) is not turned at all, so its pixels stay exact."""
    height, width = check_int("height", height), check_int("width", width)
    step_lat, step_lon = 180.0 / height, 360.0 / width
    phi = 90.0 - (torch.arange(height, dtype=torch.float64) + 0.5) * step_lat
    column = (torch.arange(width, dtype=torch.float64) + 0.5 + yaw / step_lon) % width
    lam = -180.0 + column * step_lon
    phi, lam = torch.meshgrid(phi.deg2rad(), lam.deg2rad(), indexing="ij")
    dirs = _unit_vectors(phi, lam)
    return (_tilt(dirs, pitch, roll) if pitch or roll else dirs).float()


def perspective_directions(height: int, width: int, fov_deg: float = 90.0, yaw: float = 0.0,
                           pitch: float = 0.0) -> torch.Tensor:
    """(H, W, 3) float32 unit directions of a pinhole camera's pixel centres: square pixels,
    ``fov_deg`` horizontal field of view, looking at longitude ``yaw`` and latitude ``pitch``
    (degrees), no roll. With odd H and W the centre pixel looks exactly along (pitch, yaw)."""
    height, width = check_int("height", height), check_int("width", width)
    fov_deg = check_fov(fov_deg)
    if not -90.0 <= pitch <= 90.0:
        raise ValueError(f"pitch must lie in [-90, 90] degrees, got {pitch!r}")
    pixel = math.tan(math.radians(fov_deg) / 2) / (width / 2)  # pixel size on the image plane
    right = (torch.arange(width, dtype=torch.float64) + 0.5 - width / 2) * pixel
    up = (height / 2 - torch.arange(height, dtype=torch.float64) - 0.5) * pixel
    phi, lam = torch.tensor([pitch, yaw], dtype=torch.float64).deg2rad()
    forward = _unit_vectors(phi, lam)
    east = torch.stack([lam.cos(), -lam.sin(), torch.zeros_like(lam)])   # d forward / d lam, unit
    north = torch.stack([-phi.sin() * lam.sin(), -phi.sin() * lam.cos(), phi.cos()])  # d / d phi
    dirs = forward + right[None, :, None] * east + up[:, None, None] * north
    return (dirs / dirs.norm(dim=-1, keepdim=True)).float()


def render_rays(world, dirs: torch.Tensor):
    """(rgb (N, 3) float32 in [0, 1], instance ids (N,) int64) for (N, 3) unit directions from
    the world's camera, in chunks of rays."""
    origin = torch.tensor(world.camera, dtype=torch.float32)
    rgb, labels = [], []
    for chunk in dirs.split(RAYS_PER_CHUNK):
        colour, label = shade(world, nearest_hits(world, origin, chunk), origin, chunk)
        rgb.append(colour)
        labels.append(label)
    return torch.cat(rgb), torch.cat(labels)


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    return level


def labels_at(instances: torch.Tensor, level: str) -> torch.Tensor:
    """An instance map's labels at ``level``: "instance" (as is), "fine" (train ids 0-18, 255
    void) or "category" (CVRG-Pano 0-7)."""
    check_level(level)
    if level == "instance":
        return instances
    fine = fine_from_instances(instances)
    return fine if level == "fine" else categories_from_fine(fine)


def _render_image(world, dirs, level):
    check_level(level)
    height, width, _ = dirs.shape
    rgb, instances = render_rays(world, dirs.reshape(-1, 3))
    return (rgb.T.reshape(3, height, width).contiguous(),
            labels_at(instances.reshape(height, width), level))


def render_panorama(world, height: int, width: int, yaw: float = 0.0, pitch: float = 0.0,
                    roll: float = 0.0, level: str = "category"):
    """Full-sphere equirectangular view: (image (3, H, W) float32 in [0, 1], labels (H, W)
    int64 at ``level``, see ``labels_at``). ``yaw`` (degrees) turns the camera towards the
    east; ``pitch`` and ``roll`` tilt it (see the module's note)."""
    return _render_image(world, panorama_directions(height, width, yaw, pitch, roll), level)


def render_perspective(world, height: int, width: int, fov_deg: float = 90.0, yaw: float = 0.0,
                       pitch: float = 0.0, level: str = "category"):
    """Pinhole view from the same camera: (image (3, H, W), labels (H, W)) as for panoramas."""
    return _render_image(world, perspective_directions(height, width, fov_deg, yaw, pitch),
                         level)
