"""Command-specific checks, each made at start with one line and exit 2: the pairs writer's
values and output folder, OSLSM's panoramas per class, the sizes a network takes, and what
``panosis-evaluate`` scores."""
import pytest

from console import run_cli
from test_cli import one_line_error

PAIRS = "panosis-cityscapes-pairs"


@pytest.mark.parametrize("argv, flag", [(["--fov", "0"], "--fov"), (["--fov", "180"], "--fov"),
                                        (["--fov", "nan"], "--fov"), (["--fov", "-inf"], "--fov"),
                                        (["--fov", "wide"], "--fov"), (["--train", "0", "--val", "0"], "--train"),
                                        (["--val", "0"], "--val")])
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
