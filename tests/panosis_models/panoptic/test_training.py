"""The panoptic network, its loss, a training run that resumes as if never interrupted, and the
command line (train, evaluate: metrics.json and panoptic.png; one-line errors)."""
import dataclasses
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import equiconv
from panosis_models.cli.panoptic import main as panoptic_main
from panosis_models.data.cityscapes import NUM_FINE, VOID
from panosis_models.engine import checkpoint
from panosis_models.errors import InputError
from panosis_models.models.panoptic import PanopticNet
from panosis_models.panoptic.config import PanopticConfig
from panosis_models.panoptic.diagnose import ROWS
from panosis_models.panoptic.loss import SMALL_INSTANCE_SHARE, bootstrapped_cross_entropy, small_instance_weights
from panosis_models.panoptic.train import train

TINY = dict(num=6, size=(32, 64), channels=(4, 8), head_channels=4, epochs=1, batch_size=2, device="cpu",
            progress=False, split=(0.5, 0.17, 0.33))


def tiny(tmp_path, **overrides) -> PanopticConfig:
    return PanopticConfig(**{**TINY, "out": str(tmp_path / "run"), "cache_dir": str(tmp_path / "cache"), **overrides})


@pytest.mark.parametrize("backbone", ["unet", "pspnet"])
@pytest.mark.parametrize("conv", ["std", "equi"])
def test_three_heads_at_the_input_size_and_equi_reaches_every_kxk_convolution(backbone, conv):
    net = PanopticNet(backbone, conv, head_channels=4, channels=(4, 8), preset="tiny").eval()
    out = net(torch.randn(1, 3, 32, 64))
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "semantic": (1, NUM_FINE, 32, 64), "center": (1, 1, 32, 64), "offset": (1, 2, 32, 64)}
    flat = [m for m in net.modules() if type(m) is nn.Conv2d and tuple(m.kernel_size) != (1, 1)]
    spherical = [m for m in net.modules() if isinstance(m, equiconv.EquiConv2d)]
    assert (not flat and spherical) if conv == "equi" else (flat and not spherical)
    assert net.backbone.head is None  # the backbone's classifier gives way to the heads


def test_equi_outputs_follow_a_turn_of_the_panorama():
    torch.manual_seed(0)
    net = PanopticNet("unet", "equi", head_channels=4, channels=(4, 8)).eval()
    x = torch.randn(1, 3, 16, 32)
    with torch.no_grad():
        out, turned = net(x), net(x.roll(2, -1))
    for name in out:
        assert torch.allclose(turned[name], out[name].roll(2, -1), atol=1e-4), name


def test_the_semantic_loss_averages_the_costliest_pixels_and_ignores_void():
    logits = torch.zeros(1, 3, 1, 4)
    logits[0, 0] = torch.tensor([[4.0, 0.0, 2.0, 9.0]])  # class 0 right at pixels 0 and 3, wrong at 1
    labels = torch.tensor([[[0, 0, 0, VOID]]])
    plain = F.cross_entropy(logits, labels, ignore_index=VOID)
    assert bootstrapped_cross_entropy(logits, labels, 1.0) == pytest.approx(plain.item())
    costliest = F.cross_entropy(logits[..., 1:2], labels[..., 1:2])  # a third of 3 labelled pixels: pixel 1
    assert bootstrapped_cross_entropy(logits, labels, 1 / 3) == pytest.approx(costliest.item())
    assert bootstrapped_cross_entropy(logits, torch.full_like(labels, VOID), 0.2) == 0


def test_small_instances_weigh_more_in_the_semantic_loss():
    # 32 x 64 = 2048 px: small means under SMALL_INSTANCE_SHARE * 2048 = 4 px
    assert SMALL_INSTANCE_SHARE * 32 * 64 == 4
    instances = torch.zeros(2, 32, 64, dtype=torch.int64)  # road (stuff) everywhere
    instances[0, 0, :3] = 13000             # a 3 px car: small
    instances[0, 1, :4] = 13001             # a 4 px car: not small
    instances[1, 0, :2] = 13000             # the same id in the second panorama: its own 2 px
    instances[1, 1, :3] = 13              # a crowd of cars (no instance id): not weighted
    weights = small_instance_weights(instances, 3.0)
    expected = torch.ones(2, 32, 64)
    expected[0, 0, :3] = expected[1, 0, :2] = 3
    assert torch.equal(weights, expected)
    logits = torch.zeros(2, 19, 32, 64)
    labels = instances.clone()
    labels[instances >= 1000] = 13
    plain = bootstrapped_cross_entropy(logits, labels, 1.0)
    weighted = bootstrapped_cross_entropy(logits, labels, 1.0, weights)
    assert weighted == pytest.approx(plain.item() * expected.mean().item())


def test_a_run_resumed_after_its_first_epoch_ends_where_an_uninterrupted_one_does(tmp_path):
    torch.set_num_threads(1)
    whole = train(tiny(tmp_path / "whole", epochs=2))
    first = tiny(tmp_path / "parts", epochs=1)
    train(first)
    resumed = train(dataclasses.replace(first, epochs=2, resume=True))
    assert [h["epoch"] for h in resumed["history"]] == [1, 2]
    assert [h["loss"] for h in resumed["history"]] == pytest.approx([h["loss"] for h in whole["history"]], abs=1e-6)
    a = checkpoint.load(Path(whole["last"]), "panoptic")["model"]
    b = checkpoint.load(Path(resumed["last"]), "panoptic")["model"]
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a)


def test_the_command_trains_evaluates_and_reports_user_errors_in_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    panoptic_main(["train", "--out", str(run), "--num", "10", "--size", "32x64", "--channels", "4,8",
                   "--head-channels", "4", "--epochs", "1", "--batch-size", "2", "--device", "cpu",
                   "--cache-dir", str(tmp_path / "cache"), "--no-progress", "--level", "category"])
    panoptic_main(["evaluate", "--checkpoint", str(run / "best.pt"), "--out", str(tmp_path / "eval"),
                   "--device", "cpu", "--no-progress"])
    assert "PQ" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert set(metrics["panoptic"]) == {"pixel", "area", "seam", "visible"} and metrics["items"] >= 1
    assert metrics["panoptic"]["visible"]["min_area"] == 16 and set(metrics["components"]) == set(metrics["panoptic"])
    assert len(metrics["semantic"]["pixel"]["iou"]) == 7  # the run's level, kept in its checkpoint
    assert (tmp_path / "eval" / "panoptic.png").stat().st_size > 0
    panoptic_main(["diagnose", "--checkpoint", str(run / "best.pt"), "--out", str(tmp_path / "diagnose"),
                   "--device", "cpu", "--no-progress"])
    printed = capsys.readouterr().out
    assert "| predicted semantics, connected components |" in printed and "| all true | 1.000 |" in printed
    rows = json.loads((tmp_path / "diagnose" / "diagnosis.json").read_text())["rows"]
    assert len(rows) == len(ROWS) and rows["all true"]["pixel"]["all"]["pq"] == 1.0
    with pytest.raises(SystemExit) as exit_:
        panoptic_main(["evaluate", "--checkpoint", str(tmp_path / "missing.pt")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.pt does not exist" in err
    with pytest.raises(SystemExit):
        panoptic_main(["train", "--out", str(run), "--size", "30x64", "--device", "cpu"])
    assert "multiples of 16" in capsys.readouterr().err
    with pytest.raises(InputError, match="level must be one of"):
        PanopticConfig(level="coarse").validate()


def test_the_help_of_evaluate_and_diagnose_names_the_folder_each_writes_by_default():
    """diagnose writes RUN/diagnose when --out is left out; its help said RUN/eval."""
    from panosis_models.cli.panoptic import parser

    actions = parser()._subparsers._group_actions[0].choices
    for action in ("evaluate", "diagnose"):
        out = next(a for a in actions[action]._actions if a.dest == "out")
        assert f"RUN/{'eval' if action == 'evaluate' else 'diagnose'}" in out.help
