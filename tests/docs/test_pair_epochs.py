"""The epochs table of the one-pair routes: one row per number of epochs, the difference to
colour in rows with its two-standard-deviation reading, colour averaged once per pair."""
import json
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path.insert(0, str(DOCS))

from tables import pair_epochs  # noqa: E402


def test_rows_per_epochs_and_colour_once_per_pair(tmp_path):
    def run(pair, epochs, colour):
        return {"pair_seed": pair, "epochs": epochs,
                "colour in pair rows": {"level": {"miou": colour}, "tilted": {"miou": colour - 0.1}}}

    def entry(mean, std, difference, above):
        return {"unet": {"mean": mean, "std": std}, "above_2std": above,
                "minus_colour_in_rows": {"mean": difference, "std": 0.01}}

    (tmp_path / "pair-epochs-validation.json").write_text(json.dumps({
        "seed": 0, "conv": "std", "validation": "v", "command": "c", "machine": "m", "date": "d",
        "runs": [run(0, 10, 0.3), run(0, 40, 0.3), run(1, 10, 0.4), run(1, 40, 0.4)],
        "summary": {"10": {"level": entry(0.31, 0.02, 0.01, False), "tilted": entry(0.2, 0.02, 0.0, False)},
                    "40": {"level": entry(0.45, 0.03, 0.1, True), "tilted": entry(0.3, 0.03, 0.05, True)}}}))
    lines = pair_epochs.render(tmp_path).splitlines()
    assert lines[2] == ("| 10 | 0.310 ± 0.020 | 0.010 ± 0.010 (within 2 std) | 0.200 ± 0.020 | "
                        "0.000 ± 0.010 (within 2 std) |")
    assert lines[3].startswith("| 40 | 0.450 ± 0.030 | 0.100 ± 0.010 (above 2 std) |")
    assert "0.350 level, 0.250 tilted" in lines[5]
