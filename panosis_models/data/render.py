"""Renders a ``World`` into an equirectangular panorama or a pinhole view, with exact per-pixel
CVRG-Pano labels, following the project's geometry contract:

- panorama row y has latitude  phi(y) = 90 - (y + 1/2) * 180 / H      (top = +90 deg),
  column x has longitude       lam(x) = -180 + (x + 1/2) * 360 / W + yaw;
- a direction (phi, lam) is the unit vector  (cos phi sin lam, cos phi cos lam, sin phi)  in the
  world's axes x east, y north, z up: lam = 0 looks north along the road, lam = 90 looks east.

The camera stands at ``world.camera``; everything is deterministic for a given world."""
import math

import torch

from ._checks import check_fov, check_int
from .raycast import nearest_hits
from .shading import shade

RENDERER_VERSION = 1  # bump whenever a change alters rendered pixels (keys the data set cache)
RAYS_PER_CHUNK = 8192  # bounds the (rays x primitives) intermediates to a few MB


def _unit_vectors(phi, lam):
    """Directions for latitudes/longitudes in radians (float64 tensors of one shape)."""
    return torch.stack([phi.cos() * lam.sin(), phi.cos() * lam.cos(), phi.sin()], dim=-1)


def panorama_directions(height: int, width: int, yaw: float = 0.0) -> torch.Tensor:
    """(H, W, 3) float32 unit directions of the panorama's pixel centres.

    The longitude is computed from the column plus ``yaw`` in columns, wrapped into one turn,
    so ``yaw = 360 / W`` gives exactly the directions of the next column (float64 throughout)."""
    height, width = check_int("height", height), check_int("width", width)
    step_lat, step_lon = 180.0 / height, 360.0 / width
    phi = 90.0 - (torch.arange(height, dtype=torch.float64) + 0.5) * step_lat
    column = (torch.arange(width, dtype=torch.float64) + 0.5 + yaw / step_lon) % width
    lam = -180.0 + column * step_lon
    phi, lam = torch.meshgrid(phi.deg2rad(), lam.deg2rad(), indexing="ij")
    return _unit_vectors(phi, lam).float()


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
    """(rgb (N, 3) float32 in [0, 1], labels (N,) int64) for (N, 3) unit directions from the
    world's camera, in chunks of rays."""
    origin = torch.tensor(world.camera, dtype=torch.float32)
    rgb, labels = [], []
    for chunk in dirs.split(RAYS_PER_CHUNK):
        colour, label = shade(world, nearest_hits(world, origin, chunk), origin, chunk)
        rgb.append(colour)
        labels.append(label)
    return torch.cat(rgb), torch.cat(labels)


def _render_image(world, dirs):
    height, width, _ = dirs.shape
    rgb, labels = render_rays(world, dirs.reshape(-1, 3))
    return rgb.T.reshape(3, height, width).contiguous(), labels.reshape(height, width)


def render_panorama(world, height: int, width: int, yaw: float = 0.0):
    """Full-sphere equirectangular view: (image (3, H, W) float32 in [0, 1], labels (H, W)
    int64 in 0..7). ``yaw`` (degrees) turns the camera towards the east."""
    return _render_image(world, panorama_directions(height, width, yaw))


def render_perspective(world, height: int, width: int, fov_deg: float = 90.0, yaw: float = 0.0,
                       pitch: float = 0.0):
    """Pinhole view from the same camera: (image (3, H, W), labels (H, W)) as for panoramas."""
    return _render_image(world, perspective_directions(height, width, fov_deg, yaw, pitch))
