"""Resampling a whole panorama on the sphere: ``rotate`` (what a turned camera records),
``to_perspective`` (a pinhole view cut from it), ``to_cubemap`` and ``from_cubemap``.

One convention for all, that of docs/geometry.md ("Coordinates and pixel centres"): row y of an H x W panorama lies at
latitude 90 - (y + 1/2) 180 / H, column x at longitude -180 + (x + 1/2) 360 / W, and the
direction (latitude, longitude) is the unit vector (cos lat sin lon, cos lat cos lon, sin lat)
in axes x east, y north, z up. A camera looks along its y axis with x to its right and z up;
``rotation_matrix(yaw, pitch, roll)`` = Yaw @ Pitch @ Roll turns it: first ``roll`` about the
forward axis (the right side goes down), then ``pitch`` about the right axis (forward goes up),
then ``yaw`` about the up axis (forward goes east), all in degrees. A resampled pixel looking
along d reads the source where ``rotation @ d`` points.

Bilinear sampling reads across the seam and over the poles as the convolutions do (the row
beyond a pole is the edge row turned by half a revolution); ``mode="nearest"`` copies one
source pixel, so label maps stay labels and instance ids stay whole. Sample positions within
1e-6 pixel of a pixel centre are taken as that centre, so a yaw by whole pixels is exactly
``torch.roll``. Everything is batched (one rotation for the batch, or one per item),
differentiable in the image, and made of plain tensor operations (CPU, CUDA, ``torch.compile``).
"""
import math
from collections import OrderedDict
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

MODES = ("bilinear", "nearest")
SNAP = 1e-6  # pixels: sample positions this close to a pixel centre read that pixel alone
# cubemap faces in order: (name, yaw, pitch) of each 90-degree view
FACES = (("front", 0.0, 0.0), ("right", 90.0, 0.0), ("back", 180.0, 0.0), ("left", -90.0, 0.0),
         ("up", 0.0, 90.0), ("down", 0.0, -90.0))

Angle = Union[float, Tensor]


def rotation_matrix(yaw: Angle = 0.0, pitch: Angle = 0.0, roll: Angle = 0.0, *, dtype=torch.float64,
                    device=None) -> Tensor:
    """The rotation Yaw @ Pitch @ Roll of a camera (angles in degrees, see the module's axes).

    Args:
        yaw: turn about the up axis, positive towards the east; a number or a 1-D tensor.
        pitch: turn about the camera's right axis, positive looking up.
        roll: turn about the forward axis, positive with the right side going down.
        dtype: of the result (float64 by default, the precision the sampling uses).
        device: of the result.

    Returns:
        A (3, 3) matrix, or (N, 3, 3) where an angle is a tensor of N values.

    Example:
        >>> r = rotation_matrix(yaw=90.0)
        >>> torch.allclose(r @ torch.tensor([0.0, 1.0, 0.0], dtype=r.dtype), torch.tensor([1.0, 0.0, 0.0],
        ...                dtype=r.dtype), atol=1e-12)  # north turns east
        True
    """
    angles = [torch.as_tensor(a, dtype=torch.float64, device=device) for a in (yaw, pitch, roll)]
    for name, angle in zip(("yaw", "pitch", "roll"), angles):
        if angle.dim() > 1:
            raise ValueError(f"{name} must be a number or a 1-D tensor, got shape {tuple(angle.shape)}")
        if not torch.compiler.is_compiling() and not torch.isfinite(angle).all():  # values: eager only
            raise ValueError(f"{name} must be finite, got {angle}")
    yaw, pitch, roll = torch.broadcast_tensors(*(a.deg2rad() for a in angles))
    one, zero = torch.ones_like(yaw), torch.zeros_like(yaw)

    def matrix(rows):
        return torch.stack([torch.stack(row, -1) for row in rows], -2)

    c, s = yaw.cos(), yaw.sin()
    turn = matrix([[c, s, zero], [-s, c, zero], [zero, zero, one]])
    c, s = pitch.cos(), pitch.sin()
    tilt = matrix([[one, zero, zero], [zero, c, -s], [zero, s, c]])
    c, s = roll.cos(), roll.sin()
    bank = matrix([[c, zero, s], [zero, one, zero], [-s, zero, c]])
    return (turn @ tilt @ bank).to(dtype)


def _check_mode(mode: str, input: Tensor) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "bilinear" and not (input.is_floating_point() or input.is_complex()):
        raise ValueError(f"mode='bilinear' needs a floating-point input, got {input.dtype}; use mode='nearest' "
                         "for label and instance maps")
    return mode


def _check_panorama(input: Tensor, name: str = "input") -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(input).__name__}")
    if input.dim() < 2:
        raise ValueError(f"{name} must be (..., H, W), got shape {tuple(input.shape)}")
    height, width = input.shape[-2:]
    if height < 1 or width < 2:
        raise ValueError(f"{name} must be a panorama of at least 1x2 pixels, got {height}x{width}")


def _rotations(rotation: Optional[Tensor], angles: Tuple[Angle, Angle, Angle], input: Tensor) -> Tensor:
    """(B, 3, 3) float64 rotations, B = 1 (one for all) or input.shape[0] (one per item)."""
    if rotation is None:
        rotation = rotation_matrix(*angles, device=input.device)
    elif any(not (isinstance(a, (int, float)) and a == 0) for a in angles):
        raise ValueError("give either rotation or yaw/pitch/roll, not both")
    if not isinstance(rotation, Tensor):
        raise TypeError(f"rotation must be a (3, 3) or (N, 3, 3) tensor, got {type(rotation).__name__}")
    if rotation.shape[-2:] != (3, 3) or rotation.dim() not in (2, 3):
        raise ValueError(f"rotation must be a (3, 3) or (N, 3, 3) tensor, got shape {tuple(rotation.shape)}")
    rotation = rotation.to(device=input.device, dtype=torch.float64)
    if not torch.compiler.is_compiling():  # a check of values: eager only
        _check_rotation(rotation)
    if rotation.dim() == 2:
        return rotation[None]
    if input.dim() < 3 or rotation.shape[0] not in (1, input.shape[0]):
        raise ValueError(f"a batch of {rotation.shape[0]} rotations needs an input whose first dimension is "
                         f"{rotation.shape[0]}, got shape {tuple(input.shape)}")
    return rotation


def _check_rotation(rotation: Tensor) -> None:
    eye = torch.eye(3, dtype=torch.float64, device=rotation.device)
    with torch.no_grad():
        orthonormal = (rotation @ rotation.transpose(-1, -2) - eye).abs().amax() < 1e-4
        proper = (torch.linalg.det(rotation) > 0).all()
    if not (orthonormal and proper):
        raise ValueError("rotation must be a rotation matrix (orthonormal, determinant +1)")


def _directions(latitudes: Tensor, longitudes: Tensor) -> Tensor:
    """Unit vectors (..., 3) of latitudes and longitudes in radians."""
    return torch.stack([latitudes.cos() * longitudes.sin(), latitudes.cos() * longitudes.cos(),
                        latitudes.sin()], -1)


def panorama_directions(height: int, width: int, device=None) -> Tensor:
    """(height * width, 3) float64 directions of a panorama's pixel centres, row by row.

    Example:
        >>> panorama_directions(2, 4)[1]  # row 0 (latitude 45), column 1 (longitude -45)
        tensor([-0.5000,  0.5000,  0.7071], dtype=torch.float64)
    """
    lat = (90.0 - (torch.arange(height, dtype=torch.float64, device=device) + 0.5) * 180.0 / height).deg2rad()
    lon = (-180.0 + (torch.arange(width, dtype=torch.float64, device=device) + 0.5) * 360.0 / width).deg2rad()
    lat, lon = torch.meshgrid(lat, lon, indexing="ij")
    return _directions(lat, lon).reshape(-1, 3)


def _camera_directions(height: int, width: int, fov: float, device=None) -> Tensor:
    """(height * width, 3) float64 unit directions of a pinhole camera's pixel centres in its own
    frame (forward y, right x, up z): square pixels, ``fov`` degrees across its width."""
    pixel = math.tan(math.radians(fov) / 2) / (width / 2)
    right = (torch.arange(width, dtype=torch.float64, device=device) + 0.5 - width / 2) * pixel
    up = (height / 2 - torch.arange(height, dtype=torch.float64, device=device) - 0.5) * pixel
    up, right = torch.meshgrid(up, right, indexing="ij")
    dirs = torch.stack([right, torch.ones_like(right), up], -1).reshape(-1, 3)
    return dirs / dirs.norm(dim=-1, keepdim=True)


def _snap(position: Tensor) -> Tensor:
    nearest = position.round()
    return torch.where((position - nearest).abs() < SNAP, nearest, position)


def _nearest(row: Tensor, col: Tensor, height: int, width: int) -> Tensor:
    """Flat index of the source pixel nearest a panorama position (rows, columns in pixels):
    across the seam, and over a pole onto the edge row turned by half a revolution."""
    r, c = (row + 0.5).floor().long(), (col + 0.5).floor().long()
    over = (r < 0) | (r > height - 1)
    r = torch.where(r < 0, -1 - r, torch.where(r > height - 1, 2 * height - 1 - r, r))
    c = torch.where(over, c + width // 2, c).remainder(width)
    return r * width + c


def _panorama_positions(dirs: Tensor, height: int, width: int) -> tuple:
    """(rows, columns, every one a pixel centre) in an H x W panorama of directions ``dirs``."""
    lat = dirs[..., 2].clamp(-1, 1).asin()
    lon = torch.atan2(dirs[..., 0], dirs[..., 1])
    row = _snap((90.0 - lat.rad2deg()) * height / 180.0 - 0.5)
    col = _snap((lon.rad2deg() + 180.0) * width / 360.0 - 0.5)
    return row, col, _on_centres(row, col)


def _sample_panorama(input: Tensor, positions: tuple, mode: str) -> Tensor:
    """``input`` (B, M, H, W) read at ``_panorama_positions`` (B or 1, P): (B, M, P)."""
    row, col, on_centres = positions
    height, width = input.shape[-2:]
    if mode == "nearest" or on_centres:  # one source pixel each: an exact copy
        return _gather(input.flatten(-2), _nearest(row, col, height, width))
    return _bilinear(_sphere_padded(input), row + 1, col + 1)


def _on_centres(row: Tensor, col: Tensor) -> bool:
    if torch.compiler.is_compiling():
        return False
    return bool((row == row.round()).all() and (col == col.round()).all())


_PLANS = OrderedDict()  # key -> sample positions, most recently used last
PLANS_KEPT = 32


def _plan(key, make):
    """``make()``'s sample positions, kept for the next call with the same ``key`` (geometry
    depends on sizes and rotations only, never on the image); None: computed, not kept."""
    if key is None:
        return make()
    if key in _PLANS:
        _PLANS.move_to_end(key)
        return _PLANS[key]
    plan = _PLANS[key] = make()
    if len(_PLANS) > PLANS_KEPT:
        _PLANS.popitem(last=False)
    return plan


def _key(*parts, rotations: Optional[Tensor] = None):
    """A plan's key, or None where positions must be traced (compile) or differentiated."""
    if torch.compiler.is_compiling() or (rotations is not None and rotations.requires_grad):
        return None
    if rotations is not None:
        parts += (tuple(rotations.shape), rotations.detach().cpu().numpy().tobytes())
    return parts


def _sphere_padded(input: Tensor) -> Tensor:
    """``input`` (..., H, W) with one more row beyond each pole (the edge row turned by half a
    revolution) and one more column beyond the seam on each side: every bilinear read of the
    sphere falls inside it."""
    half = input.shape[-1] // 2
    rows = torch.cat([input[..., :1, :].roll(-half, -1), input, input[..., -1:, :].roll(-half, -1)], -2)
    return torch.cat([rows[..., -1:], rows, rows[..., :1]], -1)


def _bilinear(image: Tensor, row: Tensor, col: Tensor) -> Tensor:
    """``image`` (B, M, H, W) read bilinearly at pixel positions ``row``, ``col`` (B or 1, P)
    inside it, by ``grid_sample``: (B, M, P)."""
    height, width = image.shape[-2:]
    grid = torch.stack([col * (2.0 / (width - 1)) - 1, row * (2.0 / (height - 1)) - 1], -1)
    grid = grid.to(image.dtype if image.is_floating_point() else torch.float32)[:, None]
    grid = grid.expand(image.shape[0], -1, -1, -1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)[:, :, 0]


def _gather(flat: Tensor, index: Tensor) -> Tensor:
    """``flat`` (B, M, L) at ``index`` (B or 1, P): (B, M, P)."""
    if index.shape[0] == 1:
        return flat.index_select(-1, index[0])
    return flat.gather(-1, index[:, None].expand(-1, flat.shape[1], -1))


def _batched(input: Tensor, rotations: Tensor) -> Tensor:
    """``input`` (..., H, W) as (B, M, H, W), B = the number of rotations (1: all share one)."""
    if rotations.shape[0] > 1:
        return input.reshape(input.shape[0], -1, *input.shape[-2:])
    return input.reshape(1, -1, *input.shape[-2:])


def _views(input: Tensor, camera: tuple, rotations: Tensor, mode: str) -> Tensor:
    """What cameras turned by ``rotations`` record from the panorama ``input`` along the (P, 3)
    directions of their own frame that ``camera`` = (kind, *arguments) names: (B, M, P)."""
    height, width = input.shape[-2:]

    def make():
        own = (panorama_directions(*camera[1:], device=input.device) if camera[0] == "panorama" else
               _camera_directions(*camera[1:], device=input.device))
        return _panorama_positions(own[None] @ rotations.transpose(-1, -2), height, width)

    plan = _plan(_key("view", camera, height, width, str(input.device), rotations=rotations), make)
    return _sample_panorama(_batched(input, rotations), plan, mode)


def rotate(input: Tensor, rotation: Optional[Tensor] = None, *, yaw: Angle = 0.0, pitch: Angle = 0.0,
           roll: Angle = 0.0, mode: str = "bilinear") -> Tensor:
    """The panorama a camera turned by ``rotation`` records from where ``input`` was taken.

    Args:
        input: panoramas (..., H, W) covering the whole sphere; any dtype with ``mode="nearest"``.
        rotation: a (3, 3) rotation, or (N, 3, 3), one per item of ``input`` (N, ...); or None and
            ``yaw``, ``pitch``, ``roll`` in degrees (``rotation_matrix``'s axes and order).
        mode: "bilinear" for images, "nearest" for label and instance maps.

    Returns:
        A tensor of ``input``'s shape, dtype and device.

    Raises:
        ValueError: a matrix that is not a rotation, a batch of rotations that does not match the
            input, an unknown mode, or bilinear sampling of an integer tensor.

    Example:
        >>> x = torch.rand(1, 3, 8, 16)
        >>> torch.equal(rotate(x, yaw=45.0), torch.roll(x, -2, dims=-1))  # 45 degrees = 2 columns
        True
        >>> labels = torch.randint(0, 5, (2, 8, 16))
        >>> rotate(labels, pitch=30.0, mode="nearest").dtype
        torch.int64
    """
    _check_panorama(input)
    _check_mode(mode, input)
    rotations = _rotations(rotation, (yaw, pitch, roll), input)
    height, width = input.shape[-2:]
    out = _views(input, ("panorama", height, width), rotations, mode)
    return out.reshape(input.shape)


def rotate_together(rotation: Tensor, image: Tensor, *maps: Tensor) -> tuple:
    """``image`` (bilinear) and every one of ``maps`` (label or instance maps: nearest) turned by
    one ``rotation``, as ``rotate`` does: an augmentation keeps a pair aligned with it.

    Args:
        rotation: a (3, 3) rotation, or (N, 3, 3), one per item.
        image: panoramas (..., H, W), sampled bilinearly.
        maps: label or instance maps of the same panoramas, sampled nearest.

    Returns:
        The turned image followed by the turned maps.

    Example:
        >>> image, labels = rotate_together(rotation_matrix(pitch=10.0), torch.rand(3, 8, 16),
        ...                                 torch.randint(0, 4, (8, 16)))
        >>> labels.dtype
        torch.int64
    """
    return (rotate(image, rotation), *(rotate(m, rotation, mode="nearest") for m in maps))


def to_perspective(input: Tensor, fov: float, size: Sequence[int], *, yaw: Angle = 0.0, pitch: Angle = 0.0,
                   roll: Angle = 0.0, mode: str = "bilinear") -> Tensor:
    """A pinhole view cut from panoramas (equirectangular to perspective).

    Args:
        input: panoramas (..., H, W) covering the whole sphere.
        fov: the view's horizontal field of view in degrees, in (0, 180).
        size: (height, width) of the view; its pixels are square.
        yaw, pitch, roll: where the view looks and how it is turned (``rotation_matrix``); 1-D
            tensors of N angles give one view per item of ``input`` (N, ...).
        mode: "bilinear" or "nearest".

    Returns:
        (..., height, width) views.

    Example:
        >>> pano = torch.rand(1, 3, 32, 64)
        >>> to_perspective(pano, 90.0, (16, 24), yaw=30.0).shape
        torch.Size([1, 3, 16, 24])
    """
    _check_panorama(input)
    _check_mode(mode, input)
    if not isinstance(fov, (int, float)) or isinstance(fov, bool) or not 0 < fov < 180:
        raise ValueError(f"fov must be a number of degrees in (0, 180), got {fov!r}")
    height, width = _size(size)
    rotations = _rotations(None, (yaw, pitch, roll), input)
    out = _views(input, ("pinhole", height, width, float(fov)), rotations, mode)
    return out.reshape(*input.shape[:-2], height, width)


def _size(size) -> Tuple[int, int]:
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
        raise ValueError(f"size must be (height, width), two positive ints, got {size!r}")
    return tuple(size)


def _face_rotations(device=None) -> Tensor:
    return rotation_matrix(torch.tensor([yaw for _, yaw, _ in FACES]),
                           torch.tensor([pitch for _, _, pitch in FACES]), device=device)


def to_cubemap(input: Tensor, face_size: int, *, mode: str = "bilinear") -> Tensor:
    """The six 90-degree views of panoramas (equirectangular to cubemap).

    Args:
        input: panoramas (N, C, H, W) covering the whole sphere.
        face_size: the side of each square face in pixels.
        mode: "bilinear" or "nearest".

    Returns:
        (N, 6, C, face_size, face_size): the faces in ``FACES`` order (front looks north, then
        right, back, left, up, down), each what ``to_perspective(input, 90, (S, S), yaw=...,
        pitch=...)`` gives.

    Example:
        >>> to_cubemap(torch.rand(2, 3, 32, 64), 16).shape
        torch.Size([2, 6, 3, 16, 16])
    """
    _check_panorama(input)
    _check_mode(mode, input)
    if input.dim() != 4:
        raise ValueError(f"input must be (N, C, H, W), got shape {tuple(input.shape)}")
    if not isinstance(face_size, int) or isinstance(face_size, bool) or face_size < 1:
        raise ValueError(f"face_size must be a positive int, got {face_size!r}")
    height, width = input.shape[-2:]

    def make():
        camera = _camera_directions(face_size, face_size, 90.0, input.device)
        world = camera[None] @ _face_rotations(input.device).transpose(-1, -2)  # (6, P, 3)
        return _panorama_positions(world.reshape(1, -1, 3), height, width)

    plan = _plan(_key("cube", face_size, height, width, str(input.device)), make)
    out = _sample_panorama(input.reshape(1, -1, height, width), plan, mode)
    return out.reshape(*input.shape[:2], 6, face_size, face_size).transpose(1, 2)


def from_cubemap(faces: Tensor, height: int, width: int, *, mode: str = "bilinear") -> Tensor:
    """Panoramas from their six 90-degree faces (cubemap to equirectangular).

    Args:
        faces: (N, 6, C, S, S) in ``to_cubemap``'s order and orientation.
        height, width: of the panorama.
        mode: "bilinear" (within a face; at a face's border its edge pixels) or "nearest".

    Returns:
        (N, C, height, width) panoramas.

    Example:
        >>> pano = torch.rand(1, 3, 32, 64)
        >>> back = from_cubemap(to_cubemap(pano, 24), 32, 64)
        >>> back.shape
        torch.Size([1, 3, 32, 64])
    """
    if not isinstance(faces, Tensor) or faces.dim() != 5 or faces.shape[1] != 6 or faces.shape[-1] != faces.shape[-2]:
        raise ValueError(f"faces must be (N, 6, C, S, S), got {tuple(faces.shape) if isinstance(faces, Tensor) else faces!r}")
    _check_mode(mode, faces)
    height, width = _size((height, width))
    side = faces.shape[-1]

    def make():
        dirs = panorama_directions(height, width, faces.device)
        local = dirs[None] @ _face_rotations(faces.device)  # (6, P, 3): each face's own frame
        face = local[..., 1].argmax(0)  # the face each direction looks through most squarely
        own = local.gather(0, face[None, :, None].expand(1, -1, 3))[0]
        u, v = own[:, 0] / own[:, 1], own[:, 2] / own[:, 1]
        col, row = _snap((u + 1) * side / 2 - 0.5), _snap((1 - v) * side / 2 - 0.5)
        return face, row, col, _on_centres(row, col)

    face, row, col, on_centres = _plan(_key("from cube", side, height, width, str(faces.device)), make)
    flat = faces.transpose(1, 2).reshape(faces.shape[0], faces.shape[2], -1)
    if mode == "nearest" or on_centres:
        r, c = (row + 0.5).floor().long().clamp(0, side - 1), (col + 0.5).floor().long().clamp(0, side - 1)
        return _gather(flat, (face * side * side + r * side + c)[None]).reshape(faces.shape[0], faces.shape[2],
                                                                               height, width)
    atlas = faces.permute(0, 2, 3, 1, 4).reshape(faces.shape[0], faces.shape[2], side, 6 * side)  # faces side by side
    row, col = row.clamp(0, side - 1), col.clamp(0, side - 1) + face * side  # a face's edge stands in beyond it
    return _bilinear(atlas, row[None], col[None]).reshape(faces.shape[0], faces.shape[2], height, width)
