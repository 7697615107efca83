"""What defines an OSMIS run (``OsmisConfig``, saved in its checkpoint)."""
from dataclasses import dataclass

from panosis_models.engine.config import RunConfig, check_at_least
from panosis_models.errors import InputError
from panosis_models.models.convs import CONV_KINDS
from panosis_models.models.osmis.generator import NOISE_DIM
from panosis_models.models.osmis.sizes import generator_blocks


@dataclass
class OsmisConfig(RunConfig):
    """Everything that defines a run; saved in its checkpoint."""
    # what the saved networks are: a resumed run must agree on all of it
    DEFINING = ("image", "mask", "pair_seed", "size", "conv", "panorama", "channels_g", "channels_d", "noise_dim")
    RUNTIME = RunConfig.RUNTIME + ("iterations", "checkpoint_every", "preview_every")

    out: str = "runs/osmis"
    image: str = None              # PNG; None: a rendered synthetic panorama
    mask: str = None               # index or palette-colour PNG, with --image
    pair_seed: int = 0             # synthetic pair: which world
    size: tuple = (128, 256)       # (H, W) trained and generated
    conv: str = "std"
    panorama: bool = None          # None: a full panorama when W == 2 H
    iterations: int = 5000
    batch_size: int = 5
    lr: float = 2e-4
    betas: tuple = (0.5, 0.999)
    channels_g: int = 32           # base width of the generator
    channels_d: int = 32           # base width of the discriminator
    noise_dim: int = NOISE_DIM
    diversity: float = 0.15        # weight of the diversity regulariser
    feature_augment: float = 0.4   # probability of each content / layout feature augmentation
    augment: float = 0.7           # probability of each differentiable augmentation (a reduced set: high)
    reconstruction: float = 1.0    # weight of the anchor reconstruction (0: none, OSMIS as published)
    # Sampled hard masks before this step, argmax after (as OSMIS: 15000). The switch must
    # wait until the generator's masks are confident: an argmax of near-even probabilities
    # flips whole masks to one class at the slightest push, and training collapsed with it.
    warmup: int = 15000
    ema: float = 0.9999
    checkpoint_every: int = 500
    preview_every: int = 500

    def validate(self) -> None:
        if self.conv not in CONV_KINDS:
            raise InputError(f"conv must be one of {CONV_KINDS}, got {self.conv!r}")
        if (self.image is None) != (self.mask is None):
            raise InputError("image and mask must be given together (or neither, for a synthetic pair)")
        if len(self.size) != 2:
            raise InputError(f"size must be (H, W), got {self.size!r}")
        try:
            generator_blocks(*self.size)
        except ValueError as error:  # a size that cannot be generated, with a suggestion
            raise InputError(str(error)) from None
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise InputError(f"warmup must be a whole number of steps, at least 0, got {self.warmup!r}")
        check_at_least({name: getattr(self, name) for name in ("iterations", "batch_size", "channels_g", "channels_d",
                                                                "noise_dim", "checkpoint_every", "preview_every")})
        for name in ("feature_augment", "augment"):
            if not 0 <= getattr(self, name) <= 1:
                raise InputError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        if self.lr <= 0 or self.diversity < 0 or self.reconstruction < 0 or not 0 <= self.ema < 1:
            raise InputError(f"need lr > 0, diversity >= 0, reconstruction >= 0 and 0 <= ema < 1, got "
                             f"lr={self.lr}, diversity={self.diversity}, reconstruction={self.reconstruction}, "
                             f"ema={self.ema}")

    @property
    def is_panorama(self) -> bool:
        return self.size[1] == 2 * self.size[0] if self.panorama is None else self.panorama
