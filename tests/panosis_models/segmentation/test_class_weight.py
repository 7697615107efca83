"""Class-weighted cross-entropy (``class_weight="balanced"``): the weights from the training masks,
the loss that uses them, the refusals, and a run that trains with them."""
import pytest
import torch
import torch.nn.functional as F

from panosis_models.cli.train import main as train_main
from panosis_models.errors import InputError
from panosis_models.segmentation import train as segmentation_train
from panosis_models.segmentation.class_weight import balanced, class_weights, pixel_counts
from panosis_models.segmentation.config import TrainConfig
from panosis_models.segmentation.loop import segmentation_loss

TINY = dict(num=6, size=(32, 64), channels=(4, 8), epochs=1, batch_size=2, device="cpu", progress=False)


def test_pixel_counts_skip_void_and_the_weights_give_each_seen_class_the_same_total():
    masks = [torch.tensor([[1, 1, 1, 2], [1, 1, 0, 2]]), torch.tensor([[1, 1, 255, 3], [1, 1, 1, 1]])]
    counts = pixel_counts([(None, m) for m in masks], num_classes=5)
    assert counts.tolist() == [1, 11, 2, 1, 0]  # 255 (void) is not a class of five
    weights = balanced(counts)
    # 15 labelled pixels, four classes seen: 15 / (4 * n_c); class 4 never seen weighs 1
    assert weights.tolist() == pytest.approx([15 / 4, 15 / 44, 15 / 8, 15 / 4, 1.0])
    assert (weights[:4] * counts[:4]).tolist() == pytest.approx([15 / 4] * 4)
    assert class_weights(None, [(None, m) for m in masks], 5) is None


def test_weights_of_masks_without_a_labelled_pixel_are_refused():
    with pytest.raises(InputError, match="at least one labelled pixel"):
        balanced(torch.zeros(3))


def test_the_loss_is_weighted_cross_entropy_on_the_logits_device():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 3, 5, dtype=torch.float64)
    masks = torch.randint(0, 4, (2, 3, 5))
    masks[0, 0, 0] = 255
    weight = torch.tensor([0.5, 2.0, 1.0, 3.0])
    got = segmentation_loss(lambda x: x, logits, masks, ignore_index=255, weight=weight)
    assert got == pytest.approx(F.cross_entropy(logits.float(), masks, weight=weight, ignore_index=255).item())
    assert got != pytest.approx(segmentation_loss(lambda x: x, logits, masks, ignore_index=255).item())


def test_a_bad_class_weight_names_the_argument(tmp_path, capsys):
    with pytest.raises(InputError, match="class_weight"):
        TrainConfig(**TINY, out=str(tmp_path / "run"), class_weight="inverse").validate()
    with pytest.raises(SystemExit) as exit:
        train_main(["--class-weight", "inverse", "--out", str(tmp_path / "cli")])
    assert exit.value.code == 2 and "--class-weight" in capsys.readouterr().err


def test_a_run_trains_with_the_weights_of_its_training_masks(tmp_path, monkeypatch):
    """The job hands the loss the weights counted on its training split (before augmentation)."""
    seen = {}

    def spy(name, dataset, num_classes):
        seen["weight"] = class_weights(name, dataset, num_classes)
        seen["items"] = len(dataset)
        return seen["weight"]

    monkeypatch.setattr(segmentation_train, "class_weights", spy)
    cfg = TrainConfig(**TINY, out=str(tmp_path / "run"), cache_dir=str(tmp_path / "cache"), class_weight="balanced")
    job = segmentation_train.job(cfg)
    assert job.loss.keywords["weight"] is seen["weight"] and seen["items"] == len(job.epoch_data(0).dataset)
    assert torch.isfinite(seen["weight"]).all() and (seen["weight"] > 0).all()
    summary = segmentation_train.train(cfg)
    assert summary["config"]["class_weight"] == "balanced" and len(summary["history"]) == 1
