"""The support check's choices table: the share of episodes given to colour in the support's
rows, per fold, method and number of supports, overall and per class, over seeds."""
import json
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path.insert(0, str(DOCS))

from tables import oneshot_choices, oneshot_folds, oneshot_resolution  # noqa: E402


def share(*per_seed) -> dict:
    return {"per_seed": list(per_seed)}


def figures(tmp_path, counted: bool = True) -> Path:
    colour = {"share": share(0.25, 0.35), "class_share": {"10": share(0.9, 1.0), "2": share(0.0, 0.1)}}
    plain = {"network": {"share": share(0.75, 0.65)}, "colour in support rows": colour}
    graded = {"network": {"share": share(0.25, 0.45)}, "network, colour cue ×2": {"share": share(0.3, 0.1)},
              "network, colour cue ×4": {"share": share(0.2, 0.1)}, "colour in support rows": colour}
    variants = ("1-shot", "5-shot-or", "5-shot-mean")
    methods = {"prototype": {v: {} for v in variants},
               "prototype + support check": {v: {"choices": plain} if counted else {} for v in variants},
               "prototype + support check, colour gains": {v: {"choices": graded} if counted else {} for v in variants}}
    uncounted = {"prototype + support check": {v: {} for v in variants}}
    larger = {source: fold for fold, source in oneshot_resolution.LARGER.items()}
    for source in oneshot_choices.SOURCES:
        folds = {"0": methods, "1": uncounted} if source == oneshot_folds.PROTOCOL else {larger[source]: methods}
        (tmp_path / source).write_text(json.dumps({"folds": {fold: {"classes": [2, 10], "methods": ms}
                                                             for fold, ms in folds.items()}}))
    return tmp_path


def test_each_checked_method_gets_a_row_per_number_of_supports_with_its_shares_over_seeds(tmp_path):
    rows = [line.split(" | ") for line in oneshot_choices.render(figures(tmp_path)).splitlines()[2:]]
    # fold 1 at 64×128 never counted: only its 128×256 rows
    assert [row[:4] for row in rows] == [[f"| {fold}", size, method, shots]
                                         for fold, size in (("0", "64×128"), ("1", "128×256"), ("2", "128×256"))
                                         for method in ("prototype + support check",
                                                        "prototype + support check, colour gains")
                                         for shots in ("1", "5")]
    assert rows[0][4:] == ["70 ± 7 %", "–", "30 ± 7 %", "sky 95 ± 7 %, building 5 ± 7 % |"]
    assert rows[2][4:7] == ["35 ± 14 %", "35 ± 21 %", "30 ± 7 %"]  # the raised gains summed per seed: 50 %, 20 %


def test_figures_that_never_counted_the_choices_are_refused(tmp_path):
    with pytest.raises(ValueError, match="choices"):
        oneshot_choices.render(figures(tmp_path, counted=False))
