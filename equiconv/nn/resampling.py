"""Modules around ``equiconv.resampling``: a fixed rotation, a random one for augmenting
(image, labels[, instances]) together, and the perspective and cubemap conversions."""
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from equiconv import resampling


class SphereRotation(nn.Module):
    """Turns panoramas by one rotation (``equiconv.resampling.rotate``).

    Args:
        rotation: a (3, 3) rotation, or None for ``yaw``, ``pitch``, ``roll`` in degrees.
        yaw: turn about the up axis in degrees, positive towards the east.
        pitch: turn about the camera's right axis in degrees, positive looking up.
        roll: turn about the forward axis in degrees, positive with the right side going down.
        mode: "bilinear" for images, "nearest" for label and instance maps.

    Raises:
        ValueError: both ``rotation`` and angles, or an unknown mode.

    Example:
        >>> turn = SphereRotation(yaw=90.0)
        >>> turn(torch.rand(1, 3, 8, 16)).shape
        torch.Size([1, 3, 8, 16])
    """

    def __init__(self, rotation: Optional[Tensor] = None, *, yaw: float = 0.0, pitch: float = 0.0,
                 roll: float = 0.0, mode: str = "bilinear"):
        super().__init__()
        if rotation is None:
            rotation = resampling.rotation_matrix(yaw, pitch, roll)
        elif yaw or pitch or roll:
            raise ValueError("give either rotation or yaw/pitch/roll, not both")
        if mode not in resampling.MODES:
            raise ValueError(f"mode must be one of {resampling.MODES}, got {mode!r}")
        self.register_buffer("rotation", torch.as_tensor(rotation, dtype=torch.float64))
        self.mode = mode

    def forward(self, input: Tensor) -> Tensor:
        return resampling.rotate(input, self.rotation, mode=self.mode)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"


class RandomSphereRotation(nn.Module):
    """Augments a panorama and its maps with one random rotation: pitch and roll uniform in
    [-max_pitch, max_pitch] and [-max_roll, max_roll] degrees, yaw over the whole turn (or none);
    the image bilinear, every map nearest, so labels stay labels and instance ids stay whole.

    Args:
        max_pitch, max_roll: the ranges in degrees, in [0, 90].
        yaw: also turn about the vertical axis by a uniform angle.
        generator: a ``torch.Generator`` for the draws (torch's global one by default).

    Example:
        >>> augment = RandomSphereRotation(10.0, 10.0, generator=torch.Generator().manual_seed(0))
        >>> image, labels = augment(torch.rand(3, 16, 32), torch.randint(0, 4, (16, 32)))
        >>> image.shape, labels.dtype
        (torch.Size([3, 16, 32]), torch.int64)
    """

    def __init__(self, max_pitch: float, max_roll: float, yaw: bool = False,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        for name, value in (("max_pitch", max_pitch), ("max_roll", max_roll)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 90:
                raise ValueError(f"{name} must be a number of degrees in [0, 90], got {value!r}")
        self.max_pitch, self.max_roll, self.yaw, self.generator = float(max_pitch), float(max_roll), yaw, generator

    def _uniform(self, bound: float) -> float:
        return bound * (2 * torch.rand((), generator=self.generator).item() - 1)

    def sample(self) -> Tensor:
        """A (3, 3) rotation drawn from the ranges.

        Example:
            >>> turn = RandomSphereRotation(0.0, 0.0).sample()  # no pitch, no roll, no yaw
            >>> torch.equal(turn, torch.eye(3, dtype=torch.float64))
            True
        """
        yaw = 180.0 * (2 * torch.rand((), generator=self.generator).item() - 1) if self.yaw else 0.0
        return resampling.rotation_matrix(yaw, self._uniform(self.max_pitch), self._uniform(self.max_roll))

    def forward(self, image: Tensor, *maps: Tensor):
        turned = resampling.rotate_together(self.sample(), image, *maps)
        return turned if maps else turned[0]

    def extra_repr(self) -> str:
        return f"max_pitch={self.max_pitch}, max_roll={self.max_roll}, yaw={self.yaw}"


class ToPerspective(nn.Module):
    """A pinhole view of panoramas (``equiconv.resampling.to_perspective``).

    Args:
        fov: the view's horizontal field of view in degrees, in (0, 180).
        size: (height, width) of the view; its pixels are square.
        yaw: where the view looks, in degrees east of north.
        pitch: in degrees, positive looking up.
        roll: in degrees, positive with the right side going down.
        mode: "bilinear" for images, "nearest" for label and instance maps.

    Example:
        >>> ToPerspective(90.0, (8, 8), pitch=45.0)(torch.rand(1, 3, 16, 32)).shape
        torch.Size([1, 3, 8, 8])
    """

    def __init__(self, fov: float, size: Sequence[int], *, yaw: float = 0.0, pitch: float = 0.0,
                 roll: float = 0.0, mode: str = "bilinear"):
        super().__init__()
        self.fov, self.size, self.yaw, self.pitch, self.roll, self.mode = fov, tuple(size), yaw, pitch, roll, mode

    def forward(self, input: Tensor) -> Tensor:
        return resampling.to_perspective(input, self.fov, self.size, yaw=self.yaw, pitch=self.pitch,
                                         roll=self.roll, mode=self.mode)

    def extra_repr(self) -> str:
        return (f"fov={self.fov}, size={self.size}, yaw={self.yaw}, pitch={self.pitch}, roll={self.roll}, "
                f"mode={self.mode!r}")


class ToCubemap(nn.Module):
    """The six faces of panoramas (``equiconv.resampling.to_cubemap``).

    Args:
        face_size: the side of each square face in pixels.
        mode: "bilinear" for images, "nearest" for label and instance maps.

    Example:
        >>> ToCubemap(8)(torch.rand(1, 3, 16, 32)).shape
        torch.Size([1, 6, 3, 8, 8])
    """

    def __init__(self, face_size: int, *, mode: str = "bilinear"):
        super().__init__()
        self.face_size, self.mode = face_size, mode

    def forward(self, input: Tensor) -> Tensor:
        return resampling.to_cubemap(input, self.face_size, mode=self.mode)

    def extra_repr(self) -> str:
        return f"face_size={self.face_size}, mode={self.mode!r}"


class FromCubemap(nn.Module):
    """Panoramas from their six faces (``equiconv.resampling.from_cubemap``).

    Args:
        height: rows of the panorama.
        width: columns of the panorama.
        mode: "bilinear" for images, "nearest" for label and instance maps.

    Example:
        >>> FromCubemap(16, 32)(torch.rand(1, 6, 3, 8, 8)).shape
        torch.Size([1, 3, 16, 32])
    """

    def __init__(self, height: int, width: int, *, mode: str = "bilinear"):
        super().__init__()
        self.height, self.width, self.mode = height, width, mode

    def forward(self, faces: Tensor) -> Tensor:
        return resampling.from_cubemap(faces, self.height, self.width, mode=self.mode)

    def extra_repr(self) -> str:
        return f"height={self.height}, width={self.width}, mode={self.mode!r}"
