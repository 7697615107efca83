"""The command lines as a user meets them, each run as its console script in a subprocess:
names, help, one-line user errors, and failing before the expensive work."""
import argparse
import importlib
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers.console import ROOT, run_cli
from panosis_models.atomic import save_atomically

pytestmark = pytest.mark.slow  # each test runs console scripts in subprocesses

SCRIPTS = re.search(r'for name in \(([^)]*)\)', (ROOT / "setup.py").read_text()).group(1)
SCRIPTS = ["panosis-" + name for name in re.findall(r'"([a-z-]+)"', SCRIPTS)]
TINY = ["--num", "6", "--size", "32x64", "--channels", "4,8", "--epochs", "1", "--batch-size", "2",
        "--device", "cpu", "--no-progress"]


def one_line_error(result, script: str, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"{script}: error: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_every_command_line_is_a_console_script():
    modules = sorted(p.stem for p in (ROOT / "panosis_models/cli").glob("*.py") if p.stem not in ("__init__", "entry"))
    assert sorted(s[len("panosis-"):].replace("-", "_") for s in SCRIPTS) == modules


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_names_the_script_and_lists_defaults(script):
    result = run_cli(script, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {script} ")
    assert "(default: " in result.stdout and "--debug" in result.stdout


def parsers(script: str) -> dict:
    """{argv before --help: parser} of ``script`` and of each of its actions."""
    parser = importlib.import_module("panosis_models.cli." + script[len("panosis-"):].replace("-", "_")).parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {(): parser, **{(name,): sub for a in actions for name, sub in a.choices.items()}}


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_says_each_default_once(script):
    """A help text that says its default gets no second "(default: X)" from the formatter."""
    for argv, parser in parsers(script).items():
        text = " ".join(run_cli(script, *argv, "--help").stdout.split())
        assert not re.search(r"\(default[^()]*\) \(default: ", text), text
        formatter = parser._get_formatter()
        for action in parser._actions:
            said = re.findall(r"default(?!\)s)", formatter._get_help_string(action) or "")  # not %(default)s
            assert len(said) <= 1, (argv, action.help)


DEVICE_SCRIPTS = [s for s in SCRIPTS if any("--device" in a.option_strings for p in parsers(s).values()
                                             for a in p._actions)]


@pytest.mark.parametrize("device", ["tpu", "cuda:abc", "cuda:-1", "cuda:99"] +
                         ([] if torch.cuda.is_available() else ["cuda"]))
@pytest.mark.parametrize("script", DEVICE_SCRIPTS)
def test_a_device_this_machine_lacks_is_one_line_before_any_work(script, device, capsys):
    """Refused as the flag is parsed, naming --device, in every command (and action) that has it."""
    for argv, parser in parsers(script).items():
        if not any("--device" in a.option_strings for a in parser._actions):
            continue
        with pytest.raises(SystemExit) as exit:
            parsers(script)[()].parse_args([*argv, "--device", device])
        err = capsys.readouterr().err
        assert exit.value.code == 2 and err.count("\n") == 1, err
        assert err.startswith(" ".join([script, *argv]) + ": error: argument --device: "), err


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without CUDA")
def test_evaluate_on_cuda_without_cuda_blames_the_device_not_the_checkpoint(unet_run):
    result = run_cli("panosis-evaluate", "--checkpoint", unet_run / "run" / "best.pt", "--device", "cuda")
    one_line_error(result, "panosis-evaluate", "argument --device", "no CUDA device")
    assert "checkpoint" not in result.stderr


def test_a_command_without_the_models_extra_says_what_to_install():
    """The console script's entry point checks before the command (which imports tqdm) is imported."""
    result = run_cli("panosis-train", "--help", prelude="import sys; sys.modules['tqdm'] = None")
    one_line_error(result, "panosis-train", "'models' extra", "missing: tqdm", "pip install 'equiconv[models]'")


@pytest.fixture(scope="module")
def unet_run(tmp_path_factory):
    """A one-epoch U-Net run, trained through the console script (which must exit 0)."""
    root = tmp_path_factory.mktemp("unet")
    result = run_cli("panosis-train", *TINY, "--out", root / "run", "--cache-dir", root / "cache")
    assert result.returncode == 0, result.stderr
    return root


def test_resume_refuses_another_model_data_or_size(unet_run, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    last = (unet_run / "run" / "last.pt").read_bytes()
    (run / "last.pt").write_bytes(last)
    result = run_cli("panosis-train", "--num", "8", *TINY[2:], "--size", "64x128", "--conv", "equi", "--resume",
                     "--epochs", "2", "--out", run, "--cache-dir", unet_run / "cache")
    one_line_error(result, "panosis-train", "cannot resume", "num=6 (now 8)", "size=(32, 64) (now (64, 128))",
                   "conv='std' (now 'equi')")
    assert (run / "last.pt").read_bytes() == last  # the stored run is left as it was


@pytest.mark.parametrize("damage, message", [
    ("missing", "does not exist"), ("directory", "is a directory"), ("empty", "the file is empty"),
    ("list", "holds a list, not a checkpoint"), ("truncated", "cannot read checkpoint"),
    ("osmis", "is not a U-Net checkpoint (an OSMIS checkpoint)")])
def test_evaluate_names_the_checkpoint_and_its_problem(tmp_path, damage, message):
    path = tmp_path / "c.pt"
    if damage == "directory":
        path.mkdir()
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "list":
        save_atomically([1, 2], path)
    elif damage == "truncated":
        save_atomically({"model": {"w": torch.ones(100)}}, path)
        path.write_bytes(path.read_bytes()[:50])
    elif damage == "osmis":
        save_atomically({"kind": "osmis", "config": {}, "generator_args": {}, "ema": {}, "label_set": [1]}, path)
    one_line_error(run_cli("panosis-evaluate", "--checkpoint", path), "panosis-evaluate", str(path), message)


def test_debug_shows_the_traceback(tmp_path):
    result = run_cli("panosis-evaluate", "--checkpoint", tmp_path / "none.pt", "--debug")
    assert result.returncode != 0 and "Traceback" in result.stderr and "does not exist" in result.stderr


@pytest.mark.parametrize("argv, fragment", [
    (["--channels", "0,0"], "argument --channels"), (["--size", "big"], "argument --size"),
    (["--num", "0"], "argument --num"), (["--conv", "sphere"], "argument --conv")])
def test_bad_flag_values_are_one_line(argv, fragment):
    one_line_error(run_cli("panosis-train", *argv), "panosis-train", fragment)


@pytest.mark.parametrize("script", ["panosis-train", "panosis-experiment", "panosis-oneshot-evaluate",
                                    "panosis-cityscapes-pairs", "panosis-panoptic train"])
def test_an_empty_cache_dir_is_refused(script, tmp_path):
    # '' was the working folder: panosis-cityscapes-pairs filled it with cached views
    result = run_cli(*script.split(), "--cache-dir", "", "--out", tmp_path / "out", cwd=tmp_path)
    one_line_error(result, script, "argument --cache-dir: expected a folder, got ''")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("argv", [["panosis-showcase", "--out", ""],
                                  ["panosis-evaluate", "--checkpoint", "x.pt", "--out", ""],
                                  ["panosis-panoptic", "evaluate", "--checkpoint", "x.pt", "--out", ""],
                                  ["panosis-oneshot-evaluate", "--checkpoint", "x.pt", "--out", ""],
                                  ["panosis-osmis-generate", "--checkpoint", "x.pt", "--num", "1", "--out", ""],
                                  ["panosis-render-preview", "--out", ""],
                                  ["panosis-convert-masks", "--to", "labels", "masks", ""]])
def test_an_empty_output_folder_is_refused(argv, tmp_path):
    # '' was the working folder: the figures or metrics.json were written there
    script = " ".join(argv[:2]) if argv[0] == "panosis-panoptic" else argv[0]
    one_line_error(run_cli(*argv, cwd=tmp_path), script, "expected a folder, got ''")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("argv", [["panosis-train", *TINY, "--seed"], ["panosis-train", *TINY, "--data-seed"],
                                  ["panosis-render-preview", "--size", "16x32", "--seeds"]])
@pytest.mark.parametrize("value", [str(2 ** 70), "-1"])
def test_a_seed_torch_cannot_take_is_one_line(argv, value, tmp_path):
    # --seed 2**70 reached torch.Generator.manual_seed: 'Overflow when unpacking long long'
    result = run_cli(*argv, value, "--out", tmp_path / "out")
    one_line_error(result, argv[0], argv[-1], value)
    assert not (tmp_path / "out").exists()


def test_an_output_path_that_is_a_file_fails_before_any_work(tmp_path):
    (tmp_path / "taken").write_text("")
    result = run_cli("panosis-train", *TINY, "--out", tmp_path / "taken" / "run", "--cache-dir", tmp_path / "cache")
    one_line_error(result, "panosis-train", "--out", "is a file")
    assert not (tmp_path / "cache").exists()  # nothing was rendered


def test_evaluate_checks_its_output_before_evaluating(unet_run, tmp_path):
    (tmp_path / "taken").write_text("")
    result = run_cli("panosis-evaluate", "--checkpoint", unet_run / "run" / "best.pt", "--num", "2",
                     "--data-seed", "77", "--out", tmp_path / "taken")
    one_line_error(result, "panosis-evaluate", "is a file")
    assert not any("seed77" in p.name for p in (unet_run / "cache").iterdir())  # nothing was rendered


def test_evaluate_of_nothing_writes_null_not_nan(unet_run, tmp_path):
    result = run_cli("panosis-evaluate", "--checkpoint", unet_run / "run" / "best.pt", "--num", "0",
                     "--out", tmp_path / "eval", "--no-progress")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "eval/metrics.json").read_text(),
                         parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert metrics["miou"] is None and metrics["pixel_accuracy"] is None and metrics["items"] == 0
    assert "mIoU n/a" in result.stdout


def write_folder(root, masks, suffix=".png"):
    for name in ("rgb", "mask"):
        (root / name).mkdir(parents=True)
    for k, mask in enumerate(masks):
        Image.fromarray(np.full((*mask.shape[:2], 3), 40 * k, np.uint8)).save(root / "rgb" / f"{k}{suffix}", "PNG")
        Image.fromarray(mask).save(root / "mask" / f"{k}{suffix}", "PNG")
    return root


def labels(k):
    return np.random.default_rng(k).integers(0, 8, (32, 64)).astype(np.uint8)


def test_colour_masks_are_a_flag_and_upper_case_extensions_are_read(tmp_path):
    from panosis_models.data import labels_to_colour
    folder = write_folder(tmp_path / "data", [labels_to_colour(labels(k)) for k in range(3)], ".PNG")
    common = ["--data", folder, "--size", "32x64", "--channels", "4,8", "--epochs", "1", "--batch-size", "2",
              "--device", "cpu", "--no-progress"]
    result = run_cli("panosis-train", *common, "--out", tmp_path / "a")
    one_line_error(result, "panosis-train", "mask/0.PNG", "--colour-masks")
    result = run_cli("panosis-train", *common, "--colour-masks", "--out", tmp_path / "b")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "b/summary.json").read_text())["config"]["colour_masks"] is True


def test_a_corrupt_pair_stops_training_before_the_first_epoch(tmp_path):
    folder = write_folder(tmp_path / "data", [labels(k) for k in range(4)])
    (folder / "mask/3.png").write_bytes((folder / "mask/3.png").read_bytes()[:60])
    result = run_cli("panosis-train", "--data", folder, *TINY[2:], "--out", tmp_path / "run")
    one_line_error(result, "panosis-train", "mask/3.png", "corrupt")
    assert not (tmp_path / "run/last.pt").exists()


def test_pipeline_checks_its_test_folder_before_osmis(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli("panosis-pipeline", "--quick", "--test", tmp_path / "empty", "--out", tmp_path / "p",
                     "--device", "cpu", "--no-progress")
    one_line_error(result, "panosis-pipeline", "empty/rgb is not a folder")
    assert not (tmp_path / "p" / "osmis").exists()


def test_render_preview_class_shares(tmp_path):
    result = run_cli("panosis-render-preview", "--shares", "2", "--size", "16x32", "--out", tmp_path / "s",
                     "--no-progress")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("| class | pixels |") and "| bicycle |" in result.stdout
    shares = json.loads((tmp_path / "s/class_shares.json").read_text())
    assert sum(shares["pixels"].values()) == pytest.approx(1.0)
    one_line_error(run_cli("panosis-render-preview", "--shares", "0", "--out", tmp_path),
                   "panosis-render-preview", "--shares")
