"""The training-variants table of the one-pair routes: each variant paired with colour and with
the default training pair by pair, and the nature rows from each pair's class shares."""
import json
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path.insert(0, str(DOCS))

from tables import pair_variants  # noqa: E402


def run(pair, unet, colour, nature):
    return {"pair_seed": pair, "epochs": 80,
            "unet": {t: {"miou": unet, "iou": {"4": nature}} for t in ("level", "tilted")},
            "colour in pair rows": {t: {"miou": colour, "iou": {"4": 0.1}} for t in ("level", "tilted")}}


def test_variants_are_paired_with_the_default_training_on_each_pair(tmp_path):
    header = {"seed": 0, "conv": "std", "validation": "v", "machine": "m", "date": "d"}
    files = {"pair-epochs-validation.json": [run(0, 0.30, 0.30, 0.2), run(1, 0.40, 0.32, 0.5),
                                             {**run(0, 0.9, 0.3, 0.9), "epochs": 10}],   # another epochs: left out
             "pair-balanced-validation.json": [run(0, 0.33, 0.30, 0.6), run(1, 0.42, 0.32, 0.7)],
             "pair-tilt30-validation.json": [run(0, 0.29, 0.30, 0.1), run(1, 0.38, 0.32, 0.4)]}
    for name, runs in files.items():
        (tmp_path / name).write_text(json.dumps({**header, "command": f"c {name}", "runs": runs,
                                                 "pair_shares": {"0": {"nature": 0.034}, "1": {"nature": 0.003}}}))
    lines = pair_variants.render(tmp_path).splitlines()
    assert lines[2].startswith("| default training | 0.350 ± 0.071 | 0.040 ± 0.057 (within 2 std) |")
    assert lines[2].endswith("| – |")
    # balanced - default: +0.03 and +0.02 per pair
    assert lines[3].endswith("| 0.025 ± 0.007 (above 2 std) |")
    assert "`c pair-balanced-validation.json`; `c pair-tilt30-validation.json`" in lines[6]
    assert lines[10] == "| 0 | 3.4 % | 0.200 | 0.600 | 0.100 | 0.100 |"
    assert lines[11].startswith("| 1 | 0.3 % |")
