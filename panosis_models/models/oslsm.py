"""OSLSM (Shaban et al., BMVC 2017) for panoramas: one support image and its binary mask become
the weights of a per-pixel logistic classifier over a query's dense features.

- Conditioning branch: an encoder over the support image with its background masked out
  (image x mask), its features pooled over the masked region (``episodic.masked_average``:
  mask share and solid angle), then the classifier's weights w (C values) and bias b from them:
  ``generator="hashed"`` (the paper's code) spreads the pooled features to w and b by a fixed,
  never learned, weight-hashing layer (each output reads one input with a fixed sign);
  ``"learned"`` (the first build here, kept so its checkpoints load) by two learned linear layers.
- Segmentation branch: a fully convolutional encoder turning the query into features f (C, h, w)
  (with ``"hashed"``, then a learned 1x1 convolution, the FCN's last layer).
- Prediction: the logit w.f + b per feature cell, resized to the input (bilinear; with
  ``conv="equi"`` it wraps in longitude) -- sigmoid of it is the foreground probability. With
  ``cues`` the colour and row cues (``episodic.EpisodicNet``) join it, in logit units.

Both encoders are U-Net encoder blocks from the convolution factory, so ``conv="equi"`` reaches
every k>1 convolution; the 2x2 max-pooling between them reads one cell each and needs no sphere.
``start_from`` copies a pretrained encoder into both branches (the paper starts from ImageNet VGG),
and the cues' weights from the prototype network that trained it.
"""
import torch
from torch import nn

from panosis_models.models.episodic import Encoder, EpisodicNet, masked_average

__all__ = ["OSLSM", "Encoder", "GENERATORS", "weight_hashing"]

GENERATORS = ("hashed", "learned")


def weight_hashing(inputs: int, outputs: int, seed: int = 0) -> torch.Tensor:
    """(outputs, inputs) fixed hashing matrix: row j is +-1 at one input, every input used
    about equally often (a seeded permutation of the inputs, repeated), the sign seeded too."""
    gen = torch.Generator().manual_seed(seed)
    reads = torch.cat([torch.randperm(inputs, generator=gen) for _ in range(-(-outputs // inputs))])[:outputs]
    signs = torch.randint(0, 2, (outputs,), generator=gen).float() * 2 - 1
    matrix = torch.zeros(outputs, inputs)
    matrix[torch.arange(outputs), reads] = signs
    return matrix


class OSLSM(EpisodicNet):
    """``forward(query (N, 3, H, W), support (N, 3, H, W), support_mask (N, H, W) in {0, 1})``
    -> foreground logits (N, H, W). H and W must be multiples of the output stride (and, equi, large
    enough at that stride): ``input_sizes``."""

    def __init__(self, channels=(16, 32, 64), conv: str = "std", batch_norm: bool = True,
                 generator: str = "learned", latitude: bool = False, cues: bool = False):
        super().__init__(channels, conv, latitude, cues)
        if generator not in GENERATORS:
            raise ValueError(f"generator must be one of {GENERATORS}, got {generator!r}")
        self.generator = generator
        features = channels[-1]
        self.condition = Encoder(conv, self.in_channels, channels, batch_norm)
        self.segment = Encoder(conv, self.in_channels, channels, batch_norm)
        if generator == "learned":
            self.classifier = nn.Sequential(nn.Linear(features, features), nn.ReLU(inplace=True),
                                            nn.Linear(features, features + 1))
        else:
            self.head = nn.Conv2d(features, features, 1)
            self.register_buffer("hashing", weight_hashing(features, features + 1))

    def start_from(self, encoder_state: dict, cue_weights: torch.Tensor = None) -> None:
        """Both branches' encoders from ``encoder_state`` (an ``Encoder`` of the same widths, e.g.
        the prototype network's, pretrained on the fold's base classes); with ``cues``, their
        weights from ``cue_weights`` (2,) in logit units where given."""
        self.condition.load_state_dict(encoder_state)
        self.segment.load_state_dict(encoder_state)
        if self.cue_weights is not None and cue_weights is not None:
            with torch.no_grad():
                self.cue_weights.copy_(cue_weights)

    def parameter_groups(self, lr: float, condition_lr: float) -> list:
        """Adam's groups: the conditioning branch at ``condition_lr``, the rest at ``lr``."""
        condition = set(map(id, self.condition.parameters()))
        return [{"params": list(self.condition.parameters()), "lr": condition_lr},
                {"params": [p for p in self.parameters() if id(p) not in condition], "lr": lr}]

    def classifier_of(self, support: torch.Tensor, support_mask: torch.Tensor) -> tuple:
        """(w (N, C), b (N,)): the logistic classifier the support pair defines. An empty mask
        pools to zero features (there is nothing to describe)."""
        features = self.condition(self.inputs(support * support_mask[:, None].to(support.dtype)))
        pooled = masked_average(features, support_mask, self.stride)
        params = self.classifier(pooled) if self.generator == "learned" else pooled @ self.hashing.t()
        return params[:, :-1], params[:, -1]

    def features(self, query: torch.Tensor) -> torch.Tensor:
        features = self.segment(self.inputs(query))
        return features if self.generator == "learned" else self.head(features)

    def forward(self, query: torch.Tensor, support: torch.Tensor, support_mask: torch.Tensor) -> torch.Tensor:
        self.check(query, support, support_mask)
        w, b = self.classifier_of(support, support_mask)
        logits = torch.einsum("nc,nchw->nhw", w, self.features(query)) + b[:, None, None]
        logits = self.resize(logits[:, None], query.shape[-2:])[:, 0]
        return logits if self.cue_weights is None else logits + self.cues(query, support, support_mask)

    def extra_repr(self) -> str:
        return f"generator={self.generator!r}, cues={self.cue_weights is not None}"
