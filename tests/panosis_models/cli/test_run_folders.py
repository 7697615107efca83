"""The life of a run folder, for every training job: claimed before any work (a folder holding a
run is refused unless --resume or --overwrite; a lock keeps a second run out while one works
there; a folder the command made and never wrote in goes again), resumed only with the settings
it was trained with, never given non-finite weights, and left with a way back after Ctrl-C."""
import math
import os
import shlex
import shutil
import signal
import subprocess
import time
import weakref

import pytest
import torch

from tests.helpers.console import run_cli, start_cli
from tests.panosis_models.cli.test_cli import TINY, one_line_error

pytestmark = pytest.mark.slow  # each test runs console scripts in subprocesses

# one tiny run of every job that writes a run folder: (script and its arguments but --out)
JOBS = {
    "train": ["panosis-train", *TINY],
    "panoptic": ["panosis-panoptic", "train", *TINY],
    "oneshot": ["panosis-oneshot-train", "--fold", "0", "--episodes", "2", *TINY],
    "osmis": ["panosis-osmis-train", "--size", "32x64", "--iterations", "2", "--batch-size", "1", "--channels-g",
              "4", "--channels-d", "4", "--device", "cpu", "--no-progress"],
    "experiment": ["panosis-experiment", "--device", "cpu", "--no-progress"],
    "latitude": ["panosis-experiment", "--study", "latitude", "--device", "cpu", "--no-progress"],
    "panoptic-experiment": ["panosis-panoptic", "experiment", "--device", "cpu", "--no-progress"],
    "pipeline": ["panosis-pipeline", "--quick", "--device", "cpu", "--no-progress"],
    "oneshot-compare": ["panosis-oneshot-compare", "--quick", "--device", "cpu", "--no-progress"],
}


def prog(name: str) -> str:
    """The name a parse error of job ``name`` starts with (a panoptic action's parser adds the action)."""
    return " ".join(JOBS[name][:2]) if JOBS[name][0] == "panosis-panoptic" else JOBS[name][0]


def job(name: str, out, *more, **options):
    script, *args = JOBS[name]
    return run_cli(script, *args, "--out", out, *more, **options)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished one-epoch U-Net run (its folder) and the synthetic cache it used."""
    root = tmp_path_factory.mktemp("finished")
    result = job("train", root / "run", "--cache-dir", root / "cache")
    assert result.returncode == 0, result.stderr
    return root / "run", root / "cache"


def copy_run(finished, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(finished[0], run)
    return run


@pytest.mark.parametrize("name", JOBS)
def test_a_folder_holding_a_run_is_refused_without_resume_or_overwrite(name, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "last.pt").write_text("someone's run\n")
    result = job(name, out)
    one_line_error(result, JOBS[name][0], "--out", str(out), "--overwrite", *(["--resume"] * (name != "latitude")))
    assert [p.name for p in out.iterdir()] == ["last.pt"] and (out / "last.pt").read_text() == "someone's run\n"


@pytest.mark.parametrize("name", JOBS)
def test_an_empty_out_is_refused(name, tmp_path):
    result = run_cli(*JOBS[name], "--out", "", cwd=tmp_path)
    one_line_error(result, JOBS[name][0], "--out")
    assert not any(tmp_path.iterdir())  # nothing written in the working folder


def test_resume_and_overwrite_exclude_each_other(tmp_path):
    one_line_error(job("train", tmp_path / "run", "--resume", "--overwrite"), "panosis-train", "--resume",
                   "--overwrite")


def test_overwrite_replaces_the_run_folder(finished, tmp_path):
    run = copy_run(finished, tmp_path)
    (run / "notes.txt").write_text("of the old run\n")
    old = (run / "last.pt").read_bytes()
    result = job("train", run, "--cache-dir", finished[1], "--seed", "1", "--overwrite")
    assert result.returncode == 0, result.stderr
    assert not (run / "notes.txt").exists() and (run / "last.pt").read_bytes() != old
    assert torch.load(run / "last.pt", weights_only=True)["config"]["seed"] == 1


def test_overwrite_refuses_a_folder_that_holds_no_run(tmp_path):
    """--overwrite named at a folder of someone's other files (a typo, ~) deletes nothing."""
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_text("not a run\n")
    one_line_error(job("train", out, "--overwrite"), "panosis-train", "--overwrite", "holds files but no run")
    assert [p.name for p in out.iterdir()] == ["holiday.jpg"]


def wait_for(path, process, timeout=120):
    """Waits until ``path`` exists while ``process`` runs."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never came"
        time.sleep(0.02)


def test_a_second_run_into_a_folder_in_use_is_refused(finished, tmp_path):
    """While one run trains in OUT, neither --resume nor --overwrite lets another one in."""
    out = tmp_path / "run"
    first = start_cli("panosis-train", *TINY, "--epochs", "400", "--out", out, "--cache-dir", finished[1])
    try:
        wait_for(out / "last.pt", first)
        for flag in ("--resume", "--overwrite"):
            result = job("train", out, "--cache-dir", finished[1], flag)
            one_line_error(result, "panosis-train", str(out), "in use")
        assert first.poll() is None  # the first run was not disturbed
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert torch.load(out / "last.pt", weights_only=True)["config"]["epochs"] == 400


def test_two_runs_started_at_once_into_one_folder_leave_one_run(finished, tmp_path):
    out = tmp_path / "run"
    runs = [start_cli("panosis-train", *TINY, "--seed", str(seed), "--out", out, "--cache-dir", finished[1])
            for seed in (1, 2)]
    results = [run.communicate(timeout=300) + (run.returncode,) for run in runs]
    assert sorted(code for _, _, code in results) == [0, 2], results
    winner = next(seed for seed, (_, _, code) in zip((1, 2), results) if code == 0)
    loser_err = next(err for _, err, code in results if code == 2)
    assert loser_err.count("\n") == 1 and "Traceback" not in loser_err, loser_err
    for name in ("last.pt", "best.pt"):
        assert torch.load(out / name, weights_only=True)["config"]["seed"] == winner


@pytest.mark.parametrize("flag, value, saved", [("--lr", "0.01", "0.001"), ("--batch-size", "3", "2"),
                                                ("--clip", "0.5", "1.0"), ("--augment", None, "True")])
def test_resume_refuses_a_changed_training_flag(finished, tmp_path, flag, value, saved):
    """A resumed run keeps its optimiser and its record: a changed flag would be recorded but
    not applied, so it is refused, naming the flag and the saved value."""
    run = copy_run(finished, tmp_path)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.name != ".lock"}
    argv = [flag, value] if value is not None else ["--no-augment"]
    result = job("train", run, "--cache-dir", finished[1], "--resume", "--epochs", "2", *argv)
    one_line_error(result, "panosis-train", "cannot resume", flag, saved)
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.name != ".lock"} == before


def test_resume_still_takes_more_epochs_and_runtime_flags(finished, tmp_path):
    run = copy_run(finished, tmp_path)
    result = job("train", run, "--cache-dir", finished[1], "--resume", "--epochs", "2", "--workers", "0")
    assert result.returncode == 0, result.stderr
    assert len(torch.load(run / "last.pt", weights_only=True)["history"]) == 2


def test_resume_refuses_a_changed_panoptic_loss_weight(tmp_path):
    out = tmp_path / "run"
    assert job("panoptic", out, "--cache-dir", tmp_path / "cache").returncode == 0
    before = (out / "last.pt").read_bytes()
    result = job("panoptic", out, "--cache-dir", tmp_path / "cache", "--resume", "--epochs", "2",
                 "--center-weight", "100")
    one_line_error(result, "panosis-panoptic", "cannot resume", "--center-weight")
    assert (out / "last.pt").read_bytes() == before


@pytest.mark.parametrize("name, argv, flag", [
    ("train", ["--lr", "inf"], "--lr"), ("train", ["--lr", "nan"], "--lr"), ("train", ["--lr", "0"], "--lr"),
    ("train", ["--clip=-inf"], "--clip"), ("train", ["--fov", "nan"], "--fov"),
    ("oneshot", ["--lr", "inf"], "--lr"),
    ("panoptic", ["--center-weight", "inf"], "--center-weight"), ("panoptic", ["--hard-pixels", "nan"], "--hard-pixels"),
    ("osmis", ["--lr", "nan"], "--lr"), ("osmis", ["--ema", "inf"], "--ema"), ("osmis", ["--diversity", "inf"], "--diversity"),
    ("osmis", ["--augment", "nan"], "--augment"), ("train", ["--workers", str(2 ** 70)], "--workers")])
def test_a_flag_must_be_finite_and_in_range(tmp_path, name, argv, flag):
    """Floats finite and in range; --workers at most one per CPU (2 ** 70 data loader processes
    were started, and Ctrl-C amid their start printed tracebacks)."""
    cache = [] if name == "osmis" else ["--cache-dir", tmp_path / "cache"]
    result = job(name, tmp_path / "run", *argv, *cache)
    one_line_error(result, prog(name), f"argument {flag}")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("name", ["train", "oneshot"])
def test_a_non_finite_loss_stops_the_run_and_keeps_no_non_finite_weights(tmp_path, name):
    """--lr 1e30 is a finite flag value, yet it makes the loss or the weights NaN within three
    epochs: the run stops there, and no checkpoint takes them."""
    out = tmp_path / "run"
    result = job(name, out, "--lr", "1e30", "--epochs", "3", "--cache-dir", tmp_path / "cache")
    one_line_error(result, JOBS[name][0], "not finite", "--lr")
    for checkpoint in ("best.pt", "last.pt"):
        if (out / checkpoint).exists():
            state = torch.load(out / checkpoint, weights_only=True)
            assert all(torch.isfinite(w).all() for w in state["model"].values())
            assert all(math.isfinite(epoch["loss"]) for epoch in state["history"])


@pytest.mark.parametrize("argv", [["--size", "100000x200000"], ["--num", str(10 ** 12)]])
def test_more_than_memory_holds_is_one_line_and_leaves_no_folder(tmp_path, argv):
    out = tmp_path / "new" / "run"
    result = job("train", out, *argv, "--cache-dir", tmp_path / "cache", timeout=120)
    one_line_error(result, "panosis-train", "memory")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("content", [b"not a checkpoint\n", bytes(range(256)) * 3])
def test_resume_onto_an_unreadable_last_pt_names_it_and_gives_no_unsafe_advice(finished, tmp_path, content):
    run = copy_run(finished, tmp_path)
    (run / "last.pt").write_bytes(content)
    result = job("train", run, "--cache-dir", finished[1], "--resume")
    one_line_error(result, "panosis-train", str(run / "last.pt"), "unreadable")
    assert "weights_only" not in result.stderr
    assert (run / "last.pt").read_bytes() == content


def test_ctrl_c_says_how_to_resume_and_the_hint_works(finished, tmp_path):
    out = tmp_path / "run"
    argv = [*TINY, "--epochs", "40", "--out", str(out), "--cache-dir", str(finished[1])]
    process = start_cli("panosis-train", *argv)
    wait_for(out / "last.pt", process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.count("\n") == 1 and "Traceback" not in err and err.startswith("panosis-train: interrupted"), err
    state = torch.load(out / "last.pt", weights_only=True)  # intact
    assert 1 <= len(state["history"]) < 40
    hint = shlex.split(err.split("continue it with: ", 1)[1])
    assert hint == ["panosis-train", *argv, "--resume"]
    resumed = run_cli(*hint)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {out / 'last.pt'} after epoch {len(state['history'])}" in resumed.stdout
    assert len(torch.load(out / "last.pt", weights_only=True)["history"]) == 40


def test_ctrl_c_inside_a_weakref_callback_still_ends_the_job(capsys):
    """Python prints an interrupt raised in a weakref callback as ignored, with its traceback, and
    goes on (the CLI fuzzer caught panosis-experiment and panosis-pipeline so)."""
    from panosis_models import command

    def job(args):
        class Thing:
            pass

        def callback(ref):  # Ctrl-C arrives while the garbage collector runs this
            os.kill(os.getpid(), signal.SIGINT)
            sum(range(10000))

        thing = Thing()
        ref = weakref.ref(thing, callback)  # noqa: F841
        del thing
        sum(range(10 ** 7))
        raise AssertionError("the job went on after Ctrl-C")

    with pytest.raises(SystemExit) as stop:
        command.run(command.make_parser("panosis-x", "A test."), job, [])
    assert stop.value.code == 130
    assert capsys.readouterr().err == "panosis-x: interrupted\n"


def test_ctrl_c_that_a_library_turns_into_its_own_error_still_ends_the_job(capsys):
    """matplotlib's renderer met an interrupt mid-draw and raised 'ValueError: Invalid bounding
    box' with a traceback (the CLI fuzzer caught panosis-pipeline so)."""
    from panosis_models import command

    def job(args):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            sum(range(10 ** 7))
        except KeyboardInterrupt:
            raise ValueError("Invalid bounding box") from None

    before = signal.getsignal(signal.SIGINT)  # SIG_IGN where the tests were started in the background
    with pytest.raises(SystemExit) as stop:
        command.run(command.make_parser("panosis-x", "A test."), job, [])
    assert stop.value.code == 130
    assert capsys.readouterr().err == "panosis-x: interrupted\n"
    assert signal.getsignal(signal.SIGINT) is before  # put back as it was


@pytest.mark.parametrize("overwrite", [False, True])
def test_another_process_checking_the_folder_is_no_held_file(tmp_path, overwrite):
    """Under torchrun the other processes check the run folder (a probe file, written and
    removed) while the first claims it: the probe is neither 'files already there' nor deleted
    by --overwrite (a two-process DDP test failed on it at random)."""
    from panosis_models.atomic import PROBE
    from panosis_models.engine.outputs import LOCK, run_folder
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK).touch()
    probe = out / f"{PROBE}0123abcd"
    probe.touch()
    with run_folder(out, overwrite=overwrite) as folder:
        assert folder == out and probe.exists()
