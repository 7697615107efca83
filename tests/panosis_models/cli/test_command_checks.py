"""Command-specific checks, each made at start with one line and exit 2: the pairs writer's
values and output folder, OSLSM's panoramas per class, the sizes a network takes, and what
``panosis-evaluate`` scores."""
import pytest
import torch

from tests.helpers.console import run_cli
from tests.panosis_models.cli.test_cli import one_line_error

pytestmark = pytest.mark.slow  # each test runs console scripts in subprocesses

PAIRS = "panosis-cityscapes-pairs"


@pytest.mark.parametrize("argv, flag", [(["--fov", "0"], "--fov"), (["--fov", "180"], "--fov"),
                                        (["--fov", "nan"], "--fov"), (["--fov", "-inf"], "--fov"),
                                        (["--fov", "wide"], "--fov"), (["--train", "0", "--val", "0"], "--train"),
                                        (["--val", "0"], "--val"), (["--out", ""], "--out is empty"),
                                        (["--out", " ", "--overwrite"], "--out is empty")])
def test_pairs_refuse_values_out_of_range_before_any_work(tmp_path, argv, flag):
    result = run_cli(PAIRS, "--out", tmp_path / "pairs", "--train", "1", "--val", "1", *argv,
                     "--cache-dir", tmp_path / "cache", "--no-progress")
    one_line_error(result, PAIRS, flag)
    assert not (tmp_path / "pairs").exists() and not (tmp_path / "cache").exists()


def pairs_run(out, tmp_path, *argv):
    return run_cli(PAIRS, "--out", out, "--val", "1", "--cache-dir", tmp_path / "cache", "--no-progress", *argv)


def test_pairs_refuse_a_folder_they_did_not_make_and_overwrite_replaces_it_whole(tmp_path):
    out = tmp_path / "pairs"
    (out / "train").mkdir(parents=True)
    (out / "train" / "1.jpg").write_bytes(b"the user's own photo")
    (out / "notes.txt").write_text("keep me")
    result = pairs_run(out, tmp_path, "--train", "2")
    one_line_error(result, PAIRS, "--out", "not empty", "--overwrite")
    assert (out / "train" / "1.jpg").read_bytes() == b"the user's own photo" and (out / "notes.txt").exists()
    assert not (tmp_path / "cache").exists()  # refused before rendering
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pairs"]  # and nothing left beside it

    result = pairs_run(out, tmp_path, "--train", "3", "--overwrite")
    assert result.returncode == 0, result.stderr
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "train", "train/1.jpg", "train/2.jpg", "train/3.jpg", "val", "val/1.jpg"]
    result = pairs_run(out, tmp_path, "--train", "1", "--overwrite")  # a smaller rerun leaves no old pairs
    assert result.returncode == 0, result.stderr
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "train", "train/1.jpg", "val", "val/1.jpg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "pairs"]  # no temporary folder left


def test_pairs_fill_an_empty_folder_and_leave_none_when_they_fail(tmp_path):
    (tmp_path / "empty").mkdir()
    assert pairs_run(tmp_path / "empty", tmp_path, "--train", "1").returncode == 0
    assert (tmp_path / "empty" / "train" / "1.jpg").is_file()
    # a failure while writing (here: the cache is a file) leaves no --out folder and no temporary one
    (tmp_path / "cache-file").write_text("")
    result = run_cli(PAIRS, "--out", tmp_path / "new", "--train", "1", "--val", "1",
                     "--cache-dir", tmp_path / "cache-file", "--no-progress")
    assert result.returncode != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "cache-file", "empty"]


def test_pairs_overwrite_through_a_link_replaces_the_folder_it_names_and_keeps_the_link(tmp_path):
    target = tmp_path / "data" / "pairs"
    (target / "train").mkdir(parents=True)
    (target / "train" / "9.jpg").write_bytes(b"an old pair")
    link = tmp_path / "pairs-link"
    link.symlink_to(target, target_is_directory=True)
    result = pairs_run(link, tmp_path, "--train", "1", "--overwrite")
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        "train", "train/1.jpg", "val", "val/1.jpg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "data", "pairs-link"]
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["pairs"]  # no old or temporary folder


def test_pairs_remove_what_a_killed_run_left_but_not_what_a_live_one_is_writing(tmp_path):
    import fcntl
    import os
    out = tmp_path / "pairs"
    stale = tmp_path / ".pairs.dead1234.tmp"  # a run killed (SIGKILL) while writing
    (stale / "train").mkdir(parents=True)
    (stale / "train" / "1.jpg").write_bytes(b"half")
    live = tmp_path / ".pairs.beef5678.tmp"  # a run still writing: it holds its temporary locked
    live.mkdir()
    others = [tmp_path / ".pairs.notes.tmp", tmp_path / ".pairs2.dead1234.tmp"]  # not temporaries of --out
    for other in others:
        other.mkdir()
    held = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = pairs_run(out, tmp_path, "--train", "1")
    finally:
        os.close(held)
    assert result.returncode == 0, result.stderr
    assert not stale.exists() and live.is_dir() and all(other.is_dir() for other in others)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["cache", "pairs", live.name, *(other.name for other in others)])


def test_saves_keep_the_temporary_files_of_a_live_writer(tmp_path):
    import fcntl
    import os
    from panosis_models.atomic import save_atomically
    stale, live = tmp_path / ".last.pt.dead1234.pt.tmp", tmp_path / ".last.pt.beef5678.pt.tmp"
    stale.write_bytes(b"half")
    live.write_bytes(b"being written")
    held = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        save_atomically({"epoch": 1}, tmp_path / "last.pt")
        assert not stale.exists() and live.read_bytes() == b"being written"
    finally:
        os.close(held)


OSLSM_TINY = ["--size", "32x64", "--channels", "4,8", "--epochs", "1", "--episodes", "1", "--batch-size", "1",
              "--device", "cpu", "--no-progress"]


@pytest.fixture(scope="module")
def oslsm_run(tmp_path_factory):
    """A one-epoch OSLSM run on fold 3, trained through its console script."""
    root = tmp_path_factory.mktemp("oslsm")
    result = run_cli("panosis-oneshot-train", "--fold", "3", "--num", "2", *OSLSM_TINY, "--out", root / "run",
                     "--cache-dir", root / "cache")
    assert result.returncode == 0, result.stderr
    return root


def test_oslsm_training_with_too_few_panoramas_names_num_before_rendering(tmp_path):
    result = run_cli("panosis-oneshot-train", "--fold", "3", "--num", "1", *OSLSM_TINY, "--out", tmp_path / "run",
                     "--cache-dir", tmp_path / "cache")
    one_line_error(result, "panosis-oneshot-train", "--num")
    assert not (tmp_path / "cache").exists()


def test_oslsm_evaluation_with_too_few_panoramas_names_the_flag_to_raise(oslsm_run, tmp_path):
    def evaluate(*argv):
        return run_cli("panosis-oneshot-evaluate", "--checkpoint", oslsm_run / "run" / "last.pt", "--episodes", "2",
                       "--device", "cpu", "--no-progress", "--cache-dir", tmp_path / "cache", "--out",
                       tmp_path / "eval", *argv)
    # 5-shot episodes cannot come from 3 panoramas: refused before any is rendered
    one_line_error(evaluate("--panoramas", "3", "--shots", "1,5"), "panosis-oneshot-evaluate", "--panoramas", "5")
    assert not (tmp_path / "cache").exists()
    # the 2 panoramas of seed 1 at 32x64 show no novel class of fold 3 twice
    one_line_error(evaluate("--panoramas", "2", "--shots", "1", "--seed", "1"), "panosis-oneshot-evaluate",
                   "raise --panoramas")
    assert not (tmp_path / "eval").exists()


def test_oslsm_evaluation_checks_its_out_before_rendering(oslsm_run, tmp_path):
    (tmp_path / "file").write_text("")
    result = run_cli("panosis-oneshot-evaluate", "--checkpoint", oslsm_run / "run" / "last.pt", "--episodes", "2",
                     "--panoramas", "3", "--shots", "1", "--device", "cpu", "--no-progress", "--cache-dir",
                     tmp_path / "cache", "--out", tmp_path / "file" / "eval")
    one_line_error(result, "panosis-oneshot-evaluate", "--out", "is a file")
    assert not (tmp_path / "cache").exists()


# --- sizes a network cannot take: refused at start, from the network's own input_sizes

def test_input_sizes_are_what_the_networks_really_take():
    """The smallest size each network says it takes runs; one multiple less on either side is
    refused by its forward with the same rule, not by an operator deep inside."""
    import torch
    from panosis_models.models.oslsm import OSLSM
    from panosis_models.models.panoptic import PanopticNet
    from panosis_models.models.pspnet import PSPNet
    from panosis_models.models.unet import UNet
    torch.manual_seed(0)
    networks = [UNet(channels=(4, 8, 16), conv="equi"), UNet(channels=(4, 8), conv="std"),
                PSPNet(preset="tiny", conv="equi"), PSPNet(preset="tiny", conv="std"),
                PanopticNet("pspnet", "equi", head_channels=4, preset="tiny"),
                PanopticNet("unet", "equi", head_channels=4, channels=(4, 8, 16)), OSLSM((4, 8, 16), conv="equi")]
    for network in networks:
        sizes = network.eval().input_sizes
        height, width = sizes.smallest

        def forward(h, w):
            x = torch.rand(1, 3, h, w)
            with torch.no_grad():
                return network(x, x, torch.ones(1, h, w)) if isinstance(network, OSLSM) else network(x)
        forward(height, width)
        for h, w in ((height - sizes.multiple, width), (height, width - sizes.multiple), (height + 1, width)):
            if h > 0 and w > 0:
                with pytest.raises(ValueError, match=f"multiples of {sizes.multiple}"):
                    forward(h, w)
    assert str(PSPNet(conv="equi").input_sizes).startswith("H and W multiples of 8 (its output stride), at least 24x40")


TRAIN_TINY = ["--num", "6", "--channels", "4,8", "--epochs", "1", "--batch-size", "2", "--device", "cpu",
              "--no-progress"]


@pytest.mark.parametrize("script, argv, fragment", [
    ("panosis-train", ["--model", "pspnet", "--preset", "tiny", "--conv", "equi", "--size", "32x32"], "24x40"),
    ("panosis-train", ["--model", "pspnet", "--preset", "tiny", "--conv", "equi", "--size", "16x32"], "24x40"),
    ("panosis-train", ["--conv", "equi", "--size", "8x16", "--channels", "4,8,16"], "12x20"),
    ("panosis-train", ["--size", "30x64", "--channels", "4,8,16"], "multiples of 4"),
    ("panosis-oneshot-train", ["--fold", "0", "--conv", "equi", "--size", "8x16", "--channels", "4,8,16"], "12x20"),
    ("panosis-panoptic", ["train", "--model", "pspnet", "--preset", "tiny", "--conv", "equi", "--size", "16x32"],
     "24x40")])
def test_training_refuses_a_size_its_network_cannot_take_before_any_data(tmp_path, script, argv, fragment):
    action, argv = (argv[:1], argv[1:]) if script == "panosis-panoptic" else ([], argv)
    result = run_cli(script, *action, *TRAIN_TINY, *argv, "--out", tmp_path / "run", "--cache-dir", tmp_path / "cache")
    one_line_error(result, script, "--size", fragment)
    assert not (tmp_path / "cache").exists()


@pytest.fixture(scope="module")
def panoptic_run(tmp_path_factory):
    """A one-epoch panoptic U-Net run of 4 levels: sizes in multiples of 8."""
    root = tmp_path_factory.mktemp("panoptic")
    result = run_cli("panosis-panoptic", "train", "--num", "4", "--size", "32x64", "--channels", "4,8,16,32",
                     "--epochs", "1", "--batch-size", "2", "--head-channels", "4", "--device", "cpu",
                     "--no-progress", "--out", root / "run", "--cache-dir", root / "cache")
    assert result.returncode == 0, result.stderr
    return root


def test_panoptic_evaluation_refuses_a_size_its_network_cannot_take(panoptic_run, tmp_path):
    result = run_cli("panosis-panoptic", "evaluate", "--checkpoint", panoptic_run / "run" / "best.pt", "--size",
                     "30x60", "--data-seed", "77", "--device", "cpu", "--out", tmp_path / "eval")
    one_line_error(result, "panosis-panoptic", "--size 30x60", "multiples of 8")
    assert not any("seed77" in p.name for p in (panoptic_run / "cache").iterdir())  # nothing was rendered


# --- panosis-evaluate scores the held-out split unless --split says otherwise

@pytest.fixture(scope="module")
def unet_run(tmp_path_factory):
    """A one-epoch U-Net run on 10 synthetic items: split 8 / 1 / 1."""
    root = tmp_path_factory.mktemp("unet")
    result = run_cli("panosis-train", "--num", "10", "--size", "32x64", *TRAIN_TINY[2:], "--out", root / "run",
                     "--cache-dir", root / "cache")
    assert result.returncode == 0, result.stderr
    return root


def evaluate_run(run, out, *argv):
    return run_cli("panosis-evaluate", "--checkpoint", run / "run" / "best.pt", "--device", "cpu", "--no-progress",
                   "--out", out, *argv)


def test_evaluate_refuses_a_size_its_network_cannot_take_before_any_data(unet_run, tmp_path):
    result = evaluate_run(unet_run, tmp_path / "eval", "--size", "31x31", "--data-seed", "77")
    one_line_error(result, "panosis-evaluate", "--size 31x31", "multiples of 2")
    # made spherical, the same network needs 3x5 pixels at its deepest level (1/2): at least 6x10
    result = evaluate_run(unet_run, tmp_path / "eval", "--conv", "equi", "--size", "4x8", "--data-seed", "77")
    one_line_error(result, "panosis-evaluate", "--size 4x8", "at least 6x10")
    assert not any("seed77" in p.name for p in (unet_run / "cache").iterdir())


def test_evaluations_check_their_out_before_rendering(unet_run, panoptic_run, tmp_path):
    (tmp_path / "file").write_text("")
    result = evaluate_run(unet_run, tmp_path / "file" / "eval", "--data-seed", "78", "--split", "all")
    one_line_error(result, "panosis-evaluate", "--out", "is a file")
    assert not any("seed78" in p.name for p in (unet_run / "cache").iterdir())
    result = run_cli("panosis-panoptic", "evaluate", "--checkpoint", panoptic_run / "run" / "best.pt", "--data-seed",
                     "78", "--device", "cpu", "--no-progress", "--out", tmp_path / "file" / "eval")
    one_line_error(result, "panosis-panoptic", "--out", "is a file")
    assert not any("seed78" in p.name for p in (panoptic_run / "cache").iterdir())


def test_evaluate_scores_the_held_out_split_whatever_data_flags_equal_the_runs(unet_run, tmp_path):
    import json
    plain = evaluate_run(unet_run, tmp_path / "plain")
    same = evaluate_run(unet_run, tmp_path / "same", "--data", "synthetic", "--layout", "cvrg-pano", "--view",
                        "panorama", "--num", "10", "--data-seed", "0", "--size", "32x64")
    assert plain.returncode == 0 and same.returncode == 0, plain.stderr + same.stderr
    assert same.stdout.replace(str(tmp_path / "same"), "") == plain.stdout.replace(str(tmp_path / "plain"), "")
    assert "(1 item: the test split)" in plain.stdout
    metrics = [json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("plain", "same")]
    assert metrics[0] == metrics[1] and metrics[0]["split"] == "test" and metrics[0]["items"] == 1
    whole = evaluate_run(unet_run, tmp_path / "all", "--split", "all")
    assert whole.returncode == 0, whole.stderr
    assert "(10 items: all the data)" in whole.stdout
    assert "(8 items: the train split)" in evaluate_run(unet_run, tmp_path / "train", "--split", "train").stdout
    # a layout that does not describe the run's synthetic data is refused, not ignored
    one_line_error(evaluate_run(unet_run, tmp_path / "pairs", "--layout", "cityscapes-pairs"), "panosis-evaluate",
                   "layout 'cityscapes-pairs'")
    assert "--split {train,val,test,all}" in run_cli("panosis-evaluate", "--help").stdout


def test_panoptic_evaluation_scores_the_held_out_split_too(panoptic_run, tmp_path):
    def evaluate(out, *argv):
        result = run_cli("panosis-panoptic", "evaluate", "--checkpoint", panoptic_run / "run" / "best.pt", "--device",
                         "cpu", "--no-progress", "--out", tmp_path / out, *argv)
        assert result.returncode == 0, result.stderr
        return result.stdout.replace(str(tmp_path / out), "")
    plain = evaluate("plain")
    assert evaluate("same", "--data", "synthetic", "--num", "4", "--data-seed", "0", "--size", "32x64") == plain
    assert "(1 item: the test split)" in plain
    assert "(4 items: all the data)" in evaluate("all", "--split", "all")


def test_a_count_beyond_what_a_data_loader_takes_is_one_line():
    # --batch-size 2**70 passed the flag check, then failed inside the DataLoader's islice
    result = run_cli("panosis-oneshot-evaluate", "--checkpoint", "missing.pt", "--batch-size", str(2 ** 70))
    one_line_error(result, "panosis-oneshot-evaluate", "--batch-size", str(2 ** 70))


def test_epochs_leave_out_a_last_batch_of_one_item():
    from panosis_models.engine import distributed
    from panosis_models.engine.loop import epoch_loader
    ctx = distributed.Context()
    data = torch.utils.data.TensorDataset(torch.arange(7))
    left_out = set()
    for epoch in range(6):
        sizes = [len(batch) for batch, in epoch_loader(data, ctx, 3, 0, seed=epoch)]
        assert sizes == [3, 3]  # 7 = 3 + 3 + 1: the one goes
        seen = {int(i) for batch, in epoch_loader(data, ctx, 3, 0, seed=epoch) for i in batch}
        left_out |= set(range(7)) - seen
    assert len(left_out) > 1  # another item each epoch
    assert [len(b) for b, in epoch_loader(data, ctx, 2, 0, seed=0)] == [2, 2, 2]
    assert [len(b) for b, in epoch_loader(data, ctx, 4, 0, seed=0)] == [4, 3]  # a last batch of more stays


def test_pspnet_trains_when_its_split_leaves_one_item_and_refuses_batch_size_one(tmp_path):
    common = ["--model", "pspnet", "--preset", "tiny", "--size", "32x64", "--epochs", "1", "--device", "cpu",
              "--no-progress", "--cache-dir", tmp_path / "cache"]
    result = run_cli("panosis-train", *common, "--num", "8", "--batch-size", "2", "--out", tmp_path / "a")
    assert result.returncode == 0, result.stderr  # BatchNorm's "Expected more than 1 value per channel"
    one_line_error(run_cli("panosis-train", *common, "--num", "8", "--batch-size", "1", "--out", tmp_path / "b"),
                   "panosis-train", "--batch-size must be at least 2 for PSPNet")
    assert not (tmp_path / "b").exists()
