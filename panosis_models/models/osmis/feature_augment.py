"""Feature augmentation of the real image's discriminator features (after One-Shot GAN / OSMIS):
new plausible content and layout representations out of the one training pair, so the
discriminator does not simply memorise it. Randomness comes from torch's global generator
(seeded and saved by the training, so a resumed run draws the same)."""
import torch

FRACTION = (0.1, 0.3)   # share of channels mixed or dropped
RECTANGLE = (0.1, 0.5)  # side of a swapped rectangle, as a share of the map's side


def _uniform(lo: float, hi: float) -> float:
    return lo + (hi - lo) * torch.rand(()).item()


def _some_channels(count: int) -> torch.Tensor:
    return torch.randperm(count)[:int(count * _uniform(*FRACTION))]


def augment_content(vectors: torch.Tensor, present: torch.Tensor, prob: float) -> torch.Tensor:
    """``vectors`` (B, N, C) of masked content attention. With probability ``prob`` each,
    images 2k and 2k+1 swap a random 10-30% of the channels of every class present in both,
    and a random 10-30% of all channels are zeroed."""
    out = vectors.clone()
    batch, _, channels = vectors.shape
    for b in range(0, batch - 1, 2):
        if torch.rand(()).item() < prob:
            shared = (present[b] & present[b + 1]).nonzero()[:, 0]
            idx = _some_channels(channels).to(vectors.device)
            rows, cols = shared[:, None], idx[None, :]
            out[b, rows, cols], out[b + 1, rows, cols] = vectors[b + 1, rows, cols], vectors[b, rows, cols]
    if torch.rand(()).item() < prob:
        out[..., _some_channels(channels).to(vectors.device)] = 0
    return out


def _rectangle(height: int, width: int) -> tuple:
    h = max(1, round(height * _uniform(*RECTANGLE)))
    w = max(1, round(width * _uniform(*RECTANGLE)))
    top = int(torch.randint(height - h + 1, ()).item())
    left = int(torch.randint(width, ()).item())
    return top, h, left, w


def augment_layout(maps: torch.Tensor, prob: float, wrap: bool) -> torch.Tensor:
    """``maps`` (B, C, h, w): with probability ``prob``, images 2k and 2k+1 swap a random
    rectangle (10-50% of each side), features and mask channels alike. With ``wrap`` (a full
    panorama) the rectangle may cross the left/right seam, like any other longitude."""
    out = maps.clone()
    batch, _, height, width = maps.shape
    for b in range(0, batch - 1, 2):
        if torch.rand(()).item() >= prob:
            continue
        top, h, left, w = _rectangle(height, width)
        if not wrap:
            left = min(left, width - w)
        cols = (torch.arange(left, left + w) % width).to(maps.device)
        rows = torch.arange(top, top + h, device=maps.device)
        r, c = rows[:, None], cols[None, :]
        out[b, :, r, c], out[b + 1, :, r, c] = maps[b + 1, :, r, c], maps[b, :, r, c]
    return out
