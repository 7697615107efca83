"""The U-Net, its metrics, training with checkpoints and resume, evaluation and DDP."""
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import equiconv
from panosis_models.atomic import save_atomically
from panosis_models.cli.train import main as train_main
from panosis_models.engine import checkpoint
from panosis_models.atomic import writable_folder
from panosis_models.errors import InputError
from panosis_models.experiments.projection import matched_fov
from panosis_models.metrics import confusion_matrix, scores
from panosis_models.models.unet import UNet
from panosis_models.data.source import split
from panosis_models.segmentation.config import TrainConfig
from panosis_models.segmentation.evaluate import evaluate, load_model, summary_line
from panosis_models.segmentation.train import train

ROOT = Path(__file__).resolve().parents[3]
TINY = dict(num=6, size=(32, 64), channels=(4, 8), epochs=1, batch_size=2, device="cpu", progress=False)


def tiny(tmp_path, **overrides) -> TrainConfig:
    return TrainConfig(**{**TINY, "out": str(tmp_path / "run"), "cache_dir": str(tmp_path / "cache"), **overrides})


@pytest.mark.parametrize("conv,expected", [("std", nn.Conv2d), ("equi", equiconv.EquiConv2d)])
def test_every_3x3_convolution_follows_the_factory(conv, expected):
    net = UNet(conv=conv, channels=(4, 8, 16))
    three = [m for m in net.modules() if isinstance(m, (nn.Conv2d, equiconv.EquiConv2d))
             and tuple(m.kernel_size) == (3, 3)]
    assert len(three) == 2 * 3 + 2 * 2 + 1  # encoder, decoder, head
    assert all(type(m) is expected for m in three)
    assert net(torch.randn(1, 3, 16, 32)).shape == (1, 8, 16, 32)


def test_unet_rejects_sizes_it_cannot_pool():
    with pytest.raises(ValueError, match="multiples of 4"):
        UNet(channels=(4, 8, 16))(torch.randn(1, 3, 18, 32))
    with pytest.raises(ValueError, match="conv must be one of"):
        UNet(conv="sphere")


def test_metrics_against_hand_computed_values():
    target = torch.tensor([[0, 1, 1, 2], [2, 2, 5, 5]])
    prediction = torch.tensor([[3, 1, 2, 2], [2, 1, 5, 0]])
    c = confusion_matrix(prediction, target)
    assert c.sum() == 8 and c[1, 1] == 1 and c[1, 2] == 1 and c[2, 1] == 1 and c[5, 0] == 1
    s = scores(c)
    # label 0 pixels are not scored: the prediction 3 at an unlabelled pixel costs nothing
    # class 1: tp 1, true 2, predicted 2 -> 1/3; class 2: tp 2, true 3, predicted 3 -> 2/4;
    # class 5: tp 1, true 2, predicted 1 -> 1/2; classes 3, 4, 6, 7 absent everywhere
    assert s["iou"][1] == pytest.approx(1 / 3) and s["iou"][2] == pytest.approx(0.5)
    assert s["iou"][5] == pytest.approx(0.5) and s["iou"][3] is None and s["iou"][7] is None
    assert s["miou"] == pytest.approx((1 / 3 + 0.5 + 0.5) / 3)
    assert s["pixel_accuracy"] == pytest.approx(4 / 7)


def test_metrics_reject_bad_labels():
    with pytest.raises(ValueError, match="target labels"):
        confusion_matrix(torch.tensor([1]), torch.tensor([9]))
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(torch.zeros(2, 2), torch.zeros(2, 3))


def test_checkpoints_are_atomic_and_loaded_safely(tmp_path):
    path = save_atomically({"w": torch.ones(2), "epoch": 3}, tmp_path / "c.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temp file left
    assert checkpoint.load(path)["epoch"] == 3
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ValueError, match="c.pt"):
        checkpoint.load(path)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_saves_remove_what_a_killed_save_left_and_follow_the_umask(tmp_path):
    stale = tmp_path / ".last.pt.dead1234.pt.tmp"  # a save killed before its rename
    stale.write_bytes(b"half")
    other = tmp_path / ".best.pt.dead1234.pt.tmp"  # another file's: not this save's business
    other.write_bytes(b"half")
    saved = save_atomically({"epoch": 1}, tmp_path / "last.pt")
    assert not stale.exists() and other.exists()
    assert saved.stat().st_mode & 0o777 == 0o666 & ~current_umask()  # mkstemp made them 0600


def test_resume_removes_stale_temporaries(tmp_path):
    cfg = tiny(tmp_path)
    train(cfg)
    stale = Path(cfg.out) / ".last.pt.dead1234.pt.tmp"
    stale.write_bytes(b"half")
    train(dataclasses.replace(cfg, epochs=1, resume=True))  # nothing left to train: resuming alone
    assert not stale.exists()


def test_resume_refuses_a_changed_run_naming_the_fields(tmp_path):
    cfg = tiny(tmp_path, conv="equi")
    train(cfg)
    with pytest.raises(InputError, match=r"conv='equi' \(now 'std'\), channels=\(4, 8\) \(now \(4, 16\)\)"):
        train(dataclasses.replace(cfg, conv="std", channels=(4, 16), epochs=2, resume=True))
    assert checkpoint.load(Path(cfg.out) / "last.pt")["config"]["conv"] == "equi"
    with pytest.raises(InputError, match=r"--lr 0.0005 \(it was trained with "):  # the optimiser keeps its own
        train(dataclasses.replace(cfg, epochs=2, lr=5e-4, resume=True))
    resumed = train(dataclasses.replace(cfg, epochs=2, resume=True))  # more epochs may be asked for
    assert [h["epoch"] for h in resumed["history"]] == [1, 2]


def test_weights_that_do_not_fit_their_config_are_named(tmp_path):
    cfg = tiny(tmp_path)
    train(cfg)
    state = checkpoint.load(Path(cfg.out) / "best.pt")
    state["config"]["channels"] = [4, 16]
    save_atomically(state, tmp_path / "odd.pt")
    with pytest.raises(InputError, match=r"odd.pt: its weights do not fit .*channels \(4, 16\).*size mismatch"):
        load_model(tmp_path / "odd.pt")


def test_an_output_folder_that_cannot_be_written_is_refused(tmp_path):
    with pytest.raises(InputError, match="cannot write there"):
        writable_folder("/proc/equiconv-run")  # read-only even for root
    if os.geteuid() != 0:  # root may write anywhere else
        (tmp_path / "ro").mkdir(mode=0o500)
        with pytest.raises(InputError, match="cannot write there"):
            writable_folder(tmp_path / "ro" / "run")


@pytest.mark.parametrize("model", ["unet", "pspnet"])
def test_training_resumes_exactly_where_it_stopped(tmp_path, model):
    """Two epochs in one go == one epoch, an interruption, and --resume for the second."""
    run = dict(conv="equi", model=model, preset="tiny")
    whole = train(tiny(tmp_path / "a", epochs=2, **run))
    train(tiny(tmp_path / "b", epochs=1, **run))
    resumed = train(tiny(tmp_path / "b", epochs=2, resume=True, **run))
    assert [h["epoch"] for h in resumed["history"]] == [1, 2]
    a = checkpoint.load(tmp_path / "a/run/last.pt")["model"]
    b = checkpoint.load(tmp_path / "b/run/last.pt")["model"]
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=0, atol=0, msg=name)
    assert resumed["history"][1]["loss"] == pytest.approx(whole["history"][1]["loss"])
    assert resumed["history"][0]["loss"] != resumed["history"][1]["loss"]  # it did learn something


def test_bad_configuration_names_the_argument(tmp_path):
    with pytest.raises(InputError, match="size must be"):
        train(tiny(tmp_path, size=(31, 64)))
    with pytest.raises(InputError, match="epochs"):
        train(tiny(tmp_path, epochs=0))
    with pytest.raises(InputError, match="channels must be at least two positive widths"):
        train(tiny(tmp_path, channels=(0, 0)))
    with pytest.raises(SystemExit):
        train_main(["--size", "big"])


def test_evaluation_writes_metrics_and_pictures(tmp_path):
    cfg = tiny(tmp_path, num=10)
    train(cfg)
    model, loaded = load_model(Path(cfg.out) / "best.pt", conv="equi")
    assert loaded.conv == "equi" and any(isinstance(m, equiconv.EquiConv2d) for m in model.modules())
    result = evaluate(model, split(cfg)[2], tmp_path / "eval", progress=False)
    for name in ("metrics.json", "confusion.png", "predictions.png"):
        assert (tmp_path / "eval" / name).stat().st_size > 0
    saved = json.loads((tmp_path / "eval/metrics.json").read_text())
    assert saved["miou"] == pytest.approx(result["miou"]) and len(saved["confusion"]) == 8
    assert saved["levels"]["category"]["pixel"]["miou"] == pytest.approx(result["miou"])
    assert set(saved["levels"]["category"]["bands"]) == {"0-30", "30-60", "60-90"}
    assert (tmp_path / "eval" / "latitude.png").stat().st_size > 0


def test_fine_level_training_and_evaluation_at_both_levels(tmp_path):
    cfg = tiny(tmp_path, labels="fine", num=10)
    train(cfg)
    model, loaded = load_model(Path(cfg.out) / "best.pt")
    assert loaded.labels == "fine" and model(torch.zeros(1, 3, 32, 64)).shape[1] == 19
    result = evaluate(model, split(cfg)[2], tmp_path / "eval", progress=False, level=loaded.label_level)
    assert set(result["levels"]) == {"fine", "category"} and len(result["confusion"]) == 20
    assert result["levels"]["category"]["area"]["miou"] is not None
    assert "fine: mIoU" in summary_line(result) and "area-weighted" in summary_line(result)
    with pytest.raises(InputError, match="labels"):
        train(tiny(tmp_path, labels="instance"))


def test_matched_field_of_view():
    # the central pixel of the view spans what one panorama column spans
    fov = matched_fov(48, 128)
    focal = 24 / torch.tan(torch.deg2rad(torch.tensor(fov / 2)))
    assert float(torch.rad2deg(torch.atan(1 / focal))) == pytest.approx(360 / 128, rel=1e-4)


@pytest.mark.slow  # two processes (DDP over gloo)
def test_two_process_gloo_ddp_run(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "panosis_models.cli.train", "--out", str(tmp_path / "ddp"), "--items", "8", "--size", "32x64",
               "--channels", "4,8", "--epochs", "1", "--batch-size", "2", "--device", "cpu",
               "--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((tmp_path / "ddp/summary.json").read_text())
    assert len(summary["history"]) == 1 and (tmp_path / "ddp/last.pt").is_file()
    assert result.stdout.count("epoch 1:") == 1  # only rank 0 reports and writes


def test_scores_of_nothing_are_none_and_valid_json():
    s = scores(torch.zeros(8, 8, dtype=torch.int64))
    assert s["miou"] is None and s["pixel_accuracy"] is None
    json.dumps(s, allow_nan=False)  # NaN would raise here
