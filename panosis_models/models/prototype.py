"""A prototype one-shot segmenter (PANet, Wang et al., ICCV 2019; its prototype alignment loss is
``oneshot.loop.episode_loss``'s ``align``): one encoder for support and query; the support's
features averaged over its mask and over the rest (``episodic.masked_average``: mask share and
solid angle) give a foreground and a background prototype; each query feature cell's cosine
similarity to the two, times a fixed ``scale``, are the two classes' logits, and their difference
is the foreground logit (what the two-class softmax decides by), resized to the input.

With ``cues`` the colour and row cues (``episodic.EpisodicNet``) join that logit, in units of
the cosine difference.

The encoder is ``episodic.Encoder`` as OSLSM's, so a trained prototype network's ``encoder`` is what OSLSM's
branches start from (``OSLSM.start_from``)."""
import torch
import torch.nn.functional as F

from panosis_models.models.episodic import Encoder, EpisodicNet, masked_average

__all__ = ["PrototypeNet"]


class PrototypeNet(EpisodicNet):
    """``forward(query (N, 3, H, W), support (N, 3, H, W), support_mask (N, H, W) in {0, 1})``
    -> foreground logits (N, H, W), in [-2 scale, 2 scale] without ``cues`` (the cues are not
    bounded)."""

    def __init__(self, channels=(16, 32, 64), conv: str = "std", batch_norm: bool = True, scale: float = 20.0,
                 latitude: bool = False, cues: bool = False):
        super().__init__(channels, conv, latitude, cues)
        self.scale = float(scale)
        self.encoder = Encoder(conv, self.in_channels, channels, batch_norm)

    def prototypes(self, support: torch.Tensor, support_mask: torch.Tensor) -> tuple:
        """(foreground, background) prototypes (N, C) of the support pair; an empty side is zero."""
        features = self.encoder(self.inputs(support))
        return (masked_average(features, support_mask, self.stride),
                masked_average(features, 1 - support_mask, self.stride))

    def forward(self, query: torch.Tensor, support: torch.Tensor, support_mask: torch.Tensor) -> torch.Tensor:
        self.check(query, support, support_mask)
        foreground, background = self.prototypes(support, support_mask)
        features = self.encoder(self.inputs(query))
        similarity = [F.cosine_similarity(features, p[:, :, None, None], dim=1, eps=1e-6)
                      for p in (foreground, background)]
        logits = self.resize((similarity[0] - similarity[1])[:, None], query.shape[-2:])[:, 0]
        if self.cue_weights is not None:
            logits = logits + self.cues(query, support, support_mask)
        return self.scale * logits

    @property
    def cue_unit(self) -> float:
        return self.scale

    def extra_repr(self) -> str:
        return f"scale={self.scale}, cues={self.cue_weights is not None}"
