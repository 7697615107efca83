"""Checkpoints written before the engine became one trainer (commit 6d86323, tiny runs of each
epoch-trained job, in ``checkpoints/``) still load: resumed by today's code for one more epoch
they end where today's code ends when it trains all three epochs in one go, and the evaluation
commands read them. "Where" allows float rounding: the checkpoints' first two epochs ran on
another CPU, whose vector kernels round differently (``ATEN_CPU_CAPABILITY=default`` shows it);
a resume that lost state (optimiser moments, schedule, sampler) misses by far more."""
import dataclasses
import shutil
from pathlib import Path

import pytest
import torch

from panosis_models.engine import checkpoint
from panosis_models.oneshot.config import OneShotConfig
from panosis_models.oneshot.evaluate import load_model as load_oslsm
from panosis_models.oneshot.train import train as train_oslsm
from panosis_models.panoptic.config import PanopticConfig
from panosis_models.panoptic.evaluate import load_model as load_panoptic
from panosis_models.panoptic.train import train as train_panoptic
from panosis_models.segmentation.config import TrainConfig
from panosis_models.segmentation.evaluate import load_model as load_unet
from panosis_models.segmentation.train import train as train_unet

CHECKPOINTS = Path(__file__).parent / "checkpoints"
JOBS = {"unet": (TrainConfig, train_unet, load_unet), "panoptic": (PanopticConfig, train_panoptic, load_panoptic),
        "oslsm": (OneShotConfig, train_oslsm, load_oslsm)}


@pytest.mark.parametrize("kind", sorted(JOBS))
def test_an_old_checkpoint_resumes_where_todays_run_would_be(tmp_path, kind):
    config, train, load = JOBS[kind]
    old = CHECKPOINTS / f"{kind}-6d86323.pt"
    state = checkpoint.load(old, kind)
    assert state["epoch"] == 1  # two epochs done
    cfg = dataclasses.replace(config.from_dict(state["config"]), cache_dir=str(tmp_path / "cache"), device="cpu",
                              progress=False, epochs=3)
    (tmp_path / "resumed").mkdir()
    shutil.copy(old, tmp_path / "resumed" / "last.pt")
    resumed = train(dataclasses.replace(cfg, out=str(tmp_path / "resumed"), resume=True))
    straight = train(dataclasses.replace(cfg, out=str(tmp_path / "straight")))
    losses = [torch.tensor([e["loss"] for e in run["history"]], dtype=torch.float64) for run in (resumed, straight)]
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-6, atol=0)  # rounding ~1e-7; a lost optimiser state 2e-5
    ends = [torch.load(tmp_path / run / "last.pt", weights_only=True)["model"] for run in ("resumed", "straight")]
    assert ends[0].keys() == ends[1].keys()
    apart = torch.cat([(ends[0][name].double() - ends[1][name].double()).flatten() for name in ends[1]]).norm()
    size = torch.cat([ends[1][name].double().flatten() for name in ends[1]]).norm()
    assert apart / size < 4e-3  # rounding: up to 1.7e-3 (Adam on near-zero gradients); a lost optimiser state 1e-2
    model = load(old)[0]
    assert sum(p.numel() for p in model.parameters()) == straight["parameters"]
