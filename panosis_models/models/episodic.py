"""What every one-shot (episodic) network shares: its encoder (``Encoder``); the decision rule it was given on
base-class validation episodes (a threshold, and whether foreground is kept to the support's
rows), kept as buffers so a checkpoint carries it, and "threshold 0, every row" for a
checkpoint written before the rule existed; and the masked average pooling of support
features (each feature cell weighted by the mask's share of it and, on a full panorama, by its
solid angle, so a polar sliver counts for what it covers)."""
import torch
import torch.nn.functional as F
from torch import nn

import equiconv
from panosis_models.models.convs import InputSizes, conv3x3_factory, input_sizes, operators
from panosis_models.models.unet import DoubleConv


class Encoder(nn.Sequential):
    """``len(channels)`` double-conv blocks with 2x2 max-pooling between them: output stride
    ``2 ** (len(channels) - 1)``, ``channels[-1]`` features."""

    def __init__(self, conv: str, in_channels: int, channels, batch_norm: bool = True):
        make, layers, previous = conv3x3_factory(conv), [], in_channels
        for i, c in enumerate(channels):
            if i:
                layers.append(nn.MaxPool2d(2))
            layers.append(DoubleConv(make, previous, c, batch_norm))
            previous = c
        super().__init__(*layers)


def cell_weights(mask: torch.Tensor, stride: int) -> torch.Tensor:
    """(N, 1, h, w) weight of each feature cell: the share of its ``stride`` x ``stride`` pixels
    in ``mask`` (N, H, W) and, for a full panorama (W == 2 H), the cell's solid angle."""
    share = F.avg_pool2d(mask[:, None].float(), stride)
    height, width = share.shape[-2:]
    if mask.shape[-1] == 2 * mask.shape[-2]:
        share = share * equiconv.solid_angle(height, width, dtype=share.dtype, device=share.device)
    return share


def masked_average(features: torch.Tensor, mask: torch.Tensor, stride: int) -> torch.Tensor:
    """(N, C) mean of ``features`` (N, C, h, w) over ``mask`` (N, H, W) by ``cell_weights``;
    zero where the mask is empty (there is nothing to describe)."""
    weight = cell_weights(mask, stride).to(features.dtype)
    return (features * weight).sum((2, 3)) / weight.sum((2, 3)).clamp_min(1e-12)


def mean_colour(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(N, 3) mean RGB of ``image`` (N, 3, H, W) over ``mask`` (N, H, W); zero where it is empty."""
    weight = mask[:, None].to(image.dtype)
    return (image * weight).sum((2, 3)) / weight.sum((2, 3)).clamp_min(1)


def colour_logits(query: torch.Tensor, support: torch.Tensor, support_mask: torch.Tensor) -> torch.Tensor:
    """(N, H, W): each query pixel's squared RGB distance to the support's mean background
    colour less that to its mean foreground colour (> 0: nearer the foreground colour)."""
    shown = support_mask > 0
    distances = [((query - mean_colour(support, side)[:, :, None, None]) ** 2).sum(1) for side in (shown, ~shown)]
    return distances[1] - distances[0]


def support_rows(mask: torch.Tensor) -> torch.Tensor:
    """(N, H, 1): True in the rows where ``mask`` (N, H, W) has a pixel (none for an empty mask)."""
    return (mask > 0).any(-1, keepdim=True)


def within_support_rows(logits: torch.Tensor, mask: torch.Tensor, no: float = -1.0) -> torch.Tensor:
    """``logits`` (N, H, W) with every pixel outside the rows where the support ``mask`` shows
    the class held at ``no`` or below: on a level panorama a class keeps to its latitudes, so
    the support's rows are a prior that needs no learning."""
    return torch.where(support_rows(mask), logits, logits.clamp_max(no))


def latitude_plane(image: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W): the latitude of each row's centre as a share of 90 degrees (positive above
    the equator), the rows of an equirectangular image."""
    height, width = image.shape[-2:]
    rows = 1 - (2 * torch.arange(height, device=image.device, dtype=image.dtype) + 1) / height
    return rows[None, None, :, None].expand(image.shape[0], 1, height, width)


class EpisodicNet(nn.Module):
    """Base of the one-shot networks, encoders of ``channels`` widths with ``conv`` layers:
    ``threshold`` (a 0-d buffer) is the logit above which a pixel is foreground, and ``rows``
    (a 0-d bool buffer) whether foreground is kept to the support's rows (evaluation applies
    both, ``oneshot.loop.shot_logits``; training never sees them); ``check`` refuses an episode of the wrong shapes;
    with ``latitude`` the encoders read each row's latitude as a fourth input channel
    (``inputs``), so a feature, and a prototype, can say where on the sphere it lies.

    With ``cues`` two non-learned cues can join a network's logit (``cues``), each by a learned
    weight (zero at the start, so training starts from the plain network, unless the network
    starts them elsewhere: ``OSLSM.start_from``): the colour cue
    (``colour_logits``: nearer the support's mean foreground colour than its mean background
    colour) and the row cue (0 in the image rows where the support shows the class, -1
    elsewhere; on a level panorama a class keeps to its latitudes). They are what the best
    predictors that learn nothing use; the weights say how far to trust them, learned on
    base-class episodes."""

    def __init__(self, channels, conv: str, latitude: bool = False, cues: bool = False):
        super().__init__()
        if len(channels) < 2 or min(channels) < 1:
            raise ValueError(f"channels needs at least two positive widths, got {channels!r}")
        self.conv_kind, self.channels, self.latitude = conv, tuple(channels), latitude
        self.in_channels = 4 if latitude else 3
        self.resize = operators(conv).resize
        self.register_buffer("threshold", torch.zeros(()))
        self.register_buffer("rows", torch.zeros((), dtype=torch.bool))
        self.cue_weights = nn.Parameter(torch.zeros(2)) if cues else None

    def cues(self, query: torch.Tensor, support: torch.Tensor, support_mask: torch.Tensor) -> torch.Tensor:
        """(N, H, W) the weighted colour and row cues of the episode."""
        rows = support_rows(support_mask).to(query.dtype) - 1
        colour = colour_logits(query.float(), support.float(), support_mask).to(query.dtype)
        return self.cue_weights[0] * colour + self.cue_weights[1] * rows

    cue_unit = 1.0  # what the network's output multiplies its cues by

    @torch.no_grad()
    def colour_cue(self, query: torch.Tensor, support: torch.Tensor, support_mask: torch.Tensor) -> torch.Tensor:
        """(N, H, W) float: the weighted colour cue's share of the network's output logits. The cue
        is added, so the output with the colour cue's weight multiplied by g is the output plus
        (g - 1) times this, without running the encoders again (``oneshot.support_check``)."""
        if self.cue_weights is None:
            raise ValueError("colour_cue needs a network built with cues=True")
        return self.cue_unit * self.cue_weights[0].float() * colour_logits(query.float(), support.float(), support_mask)

    @property
    def stride(self) -> int:
        return 2 ** (len(self.channels) - 1)

    @property
    def input_sizes(self) -> InputSizes:
        return input_sizes(self.conv_kind, self.stride, "its encoders' output stride")

    def inputs(self, image: torch.Tensor) -> torch.Tensor:
        return torch.cat([image, latitude_plane(image)], 1) if self.latitude else image

    def check(self, query: torch.Tensor, support: torch.Tensor, support_mask: torch.Tensor) -> None:
        if query.dim() != 4 or not self.input_sizes.accepts(*query.shape[-2:]):
            raise ValueError(f"query must be (N, 3, H, W) with {self.input_sizes}, got shape {tuple(query.shape)}")
        if support.shape != query.shape or support_mask.shape != (query.shape[0], *query.shape[2:]):
            raise ValueError(f"support must be {tuple(query.shape)} and support_mask "
                             f"{(query.shape[0], *query.shape[2:])} like the query, got "
                             f"{tuple(support.shape)} and {tuple(support_mask.shape)}")

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        state_dict.setdefault(prefix + "threshold", torch.zeros(()))  # a checkpoint from before thresholds
        state_dict.setdefault(prefix + "rows", torch.zeros((), dtype=torch.bool))  # from before the row rule
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
