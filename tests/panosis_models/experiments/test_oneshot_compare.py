"""panosis-oneshot-compare at a tiny size: the U-Net routes train as the pipeline's do (as many
images on the pair alone as on the generated set with the pair, last checkpoints)."""
import json

import pytest

from panosis_models.experiments import oneshot, panosis

TINY = dict(channels=(4, 8), train_panoramas=6, episodes=2, epochs=1, test_panoramas=12, per_class=1, queries=1,
            panosis_pairs=1)


@pytest.mark.slow  # training runs
def test_the_routes_train_as_many_images_and_keep_their_last_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setitem(oneshot.SETTINGS, "quick", TINY)
    monkeypatch.setitem(panosis.SETTINGS, "quick", {**panosis.SETTINGS["quick"], "iterations": 2, "generated": 3,
                                                    "epochs": 1, "unet_channels": (4, 8)})
    summary = oneshot.run(oneshot.CompareConfig(out=str(tmp_path / "c"), quick=True, device="cpu", progress=False))
    methods = {(r["method"], r["conv"]) for r in summary["rows"]}
    assert {(oneshot.UNET_PAIR, "equi"), (oneshot.PANOSIS, "equi")} <= methods
    folder = tmp_path / "c" / "pair-000"
    for route in ("pair", "osmis"):
        trained = json.loads((folder / f"unet-{route}-equi" / "summary.json").read_text())
        # no validation split: no generated image chooses the checkpoint
        assert [epoch["val_miou"] for epoch in trained["history"]] == [None]
        assert trained["last"].endswith("last.pt") and (folder / f"unet-{route}-equi" / "last.pt").is_file()
