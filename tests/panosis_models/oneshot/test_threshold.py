"""The decision threshold: the best one on hand-made logits, chosen from base-class validation
episodes of worlds no training or test run sees (never the test episodes), saved with the model
and used by evaluation; and novel-class pixels ignored in training targets."""
import pytest
import torch

from panosis_models.data import datasets
from panosis_models.data.cityscapes import VOID
from panosis_models.data.episodes import IGNORE, Episodes, base_classes, binary_target, novel_classes
from panosis_models.engine import distributed
from panosis_models.models.episodic import support_rows, within_support_rows
from panosis_models.models.prototype import PrototypeNet
from panosis_models.oneshot import evaluate as evaluation, threshold as thresholds
from panosis_models.oneshot.config import OneShotConfig, training_panoramas, validation_panoramas
from panosis_models.oneshot.loop import shot_logits


def test_the_best_threshold_on_hand_made_logits():
    # class 3: foreground at logits 2, 3; background at 1, 0.5 -> any threshold in [1, 2) is perfect
    every_row = torch.ones(4, dtype=torch.bool)
    found = {3: (torch.tensor([2.0, 3.0, 1.0, 0.5]), torch.tensor([True, True, False, False]), every_row)}
    threshold, rows, miou = thresholds.best_rule(found)
    assert miou == 1.0 and 1.0 <= threshold < 2.0 and not rows  # a tie: every row
    # two classes: logits shifted by -5 -> the threshold follows
    shifted = {c: (logits - 5, *rest) for c, (logits, *rest) in {**found, 4: found[3]}.items()}
    threshold, rows, miou = thresholds.best_rule(shifted)
    assert miou == 1.0 and -4.0 <= threshold < -3.0


def test_the_support_rows_are_kept_when_they_help_on_validation():
    # the background pixel at logit 3 lies outside the support's rows: only the row rule removes it
    found = {3: (torch.tensor([2.0, 2.5, 3.0, 0.5]), torch.tensor([True, True, False, False]),
                 torch.tensor([True, True, False, True]))}
    threshold, rows, miou = thresholds.best_rule(found)
    assert rows and miou == 1.0 and 0.5 <= threshold < 2.0
    assert thresholds.best_rule(found, rows=(False,))[2] < 1.0


def test_validation_worlds_are_neither_training_nor_test_worlds():
    cfg = OneShotConfig(num=50, validation=50)
    worlds = {name: {datasets.derive_seed(d.seed, i) for i in range(50)}
              for name, d in (("train", training_panoramas(cfg)), ("validation", validation_panoramas(cfg)),
                              ("test", datasets.held_out_panoramas(50, cfg.size, 0)))}
    assert not worlds["validation"] & worlds["train"] and not worlds["validation"] & worlds["test"]


def fine_scenes(n, gen, height=16, width=32):
    """``n`` random (image, fine mask) pairs whose masks mix every class, void too."""
    images = torch.rand(n, 3, height, width, generator=gen)
    masks = torch.randint(0, 20, (n, height, width), generator=gen)
    masks[masks == 19] = VOID
    return list(zip(images, masks))


def test_novel_pixels_are_ignored_in_training_targets_not_background():
    fine = torch.tensor([[0, 1, 4, VOID]])  # fold 0: road (0) and fence (4) novel; sidewalk (1) base
    assert binary_target(fine, 1).tolist() == [[0, 1, 0, IGNORE]]
    assert binary_target(fine, 1, novel_classes(0)).tolist() == [[IGNORE, 1, IGNORE, IGNORE]]
    scenes = fine_scenes(8, torch.Generator().manual_seed(0))
    episodes = Episodes(scenes, base_classes(0), 10, seed=1, ignore=novel_classes(0))
    for i in range(10):
        *_, target, cls = episodes[i]
        query = scenes[episodes.draw(i)[2]][1]
        novel = torch.isin(query, torch.tensor(novel_classes(0)))
        assert novel.any() and (target[novel] == IGNORE).all()
        assert torch.equal(target[~novel], binary_target(query, cls)[~novel])


def test_the_threshold_comes_from_validation_episodes_only_and_evaluation_uses_it(tmp_path, monkeypatch):
    """Choosing it must never render a test panorama: held_out_panoramas refuses here."""
    def no_test(*args, **kwargs):
        raise AssertionError("the threshold read test panoramas")
    monkeypatch.setattr(datasets, "held_out_panoramas", no_test)
    monkeypatch.setattr(evaluation, "held_out_panoramas", no_test)
    cfg = OneShotConfig(fold=0, size=(16, 32), channels=(4, 8), validation=6, val_episodes=5,
                        cache_dir=str(tmp_path), progress=False)
    gen = torch.Generator().manual_seed(0)
    scenes = fine_scenes(cfg.validation, gen)
    monkeypatch.setattr(thresholds, "validation_panoramas", lambda cfg: scenes)
    episodes = thresholds.validation_episodes(cfg)
    assert episodes.dataset is scenes
    assert not set(episodes.classes) & set(novel_classes(0)) and episodes.ignore == novel_classes(0)
    torch.manual_seed(0)
    model = PrototypeNet(cfg.channels)
    miou = thresholds.choose_threshold(model, episodes, distributed.Context(device=torch.device("cpu")))
    expected, rows, expected_miou = thresholds.best_rule(thresholds.class_logits(model.eval(), episodes, "cpu"))
    assert model.threshold.item() == pytest.approx(expected) and miou == pytest.approx(expected_miou)
    assert model.rows.item() == rows
    assert model.threshold.item() != 0.0  # an untrained network's logits are not centred on 0
    supports, masks, query, *_ = episodes[0]
    raw = model(query[None], supports[None, 0], masks[None, 0])
    decided = within_support_rows(raw - expected, masks[None, 0]) if rows else raw - expected
    assert torch.allclose(shot_logits(model, supports[None], masks[None], query[None])[0], decided)
    model.rows.fill_(True)  # the row rule: nothing outside the support's rows is foreground
    decided = shot_logits(model, supports[None], masks[None], query[None])[0, 0]
    outside = ~support_rows(masks[None, 0])[0, :, 0]
    assert outside.any() and (decided[outside] <= -1).all() and torch.equal(decided[~outside], raw[0, ~outside] - expected)
    restored = PrototypeNet(cfg.channels)
    restored.load_state_dict(model.state_dict())
    assert restored.threshold.item() == model.threshold.item()  # the checkpoint carries it
    old = {k: v for k, v in model.state_dict().items() if k != "threshold"}
    restored.load_state_dict(old)  # a checkpoint from before thresholds: 0
    assert restored.threshold.item() == 0.0


def test_novel_class_validation_episodes_come_from_the_validation_worlds_never_the_test_ones(tmp_path, monkeypatch):
    def no_test(*args, **kwargs):
        raise AssertionError("validation episodes read test panoramas")
    monkeypatch.setattr(evaluation, "held_out_panoramas", no_test)
    cfg = OneShotConfig(fold=0, size=(16, 32), validation=6, data_seed=3)
    episodes = evaluation.test_episodes(cfg, 6, 4, shots=1, cache_dir=tmp_path, validation=True)
    assert episodes.classes and set(episodes.classes) <= set(novel_classes(0))
    assert episodes.dataset.seed == validation_panoramas(cfg).seed  # the worlds choosing the threshold, and more
