"""Folds and episodes: the folds split the fine classes, training episodes never show a novel
class as foreground, test episodes and support pairs repeat with their seed."""
import pytest

from panosis_models.data import SyntheticPanoramas
from panosis_models.data.cityscapes import NUM_FINE, VOID
from panosis_models.data.episodes import (FOLDS, IGNORE, Episodes, base_classes, holders, novel_classes,
                                          support_pairs)


@pytest.fixture(scope="module")
def panoramas(tmp_path_factory):
    return SyntheticPanoramas(10, 16, 32, seed=3, labels="fine", cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def index(panoramas):
    return holders(panoramas, range(NUM_FINE))


def test_the_folds_split_the_fine_classes():
    everything = [c for fold in FOLDS for c in fold]
    assert sorted(everything) == list(range(NUM_FINE)) and len(FOLDS) == 4
    for fold in range(4):
        assert set(novel_classes(fold)) | set(base_classes(fold)) == set(range(NUM_FINE))
        assert not set(novel_classes(fold)) & set(base_classes(fold))
    with pytest.raises(ValueError, match="fold must be one of 0..3"):
        novel_classes(4)


@pytest.mark.parametrize("fold", range(4))
def test_training_episodes_never_show_a_novel_class_as_foreground(panoramas, index, fold):
    episodes = Episodes(panoramas, base_classes(fold), 100, seed=fold, index=index)
    seen = set()
    for i in range(len(episodes)):
        supports, masks, _, target, cls = episodes[i]
        cls, support_ids, query = episodes.draw(i)
        assert cls in base_classes(fold)
        fine = [panoramas[s][1] for s in support_ids] + [panoramas[query][1]]
        foreground = [m.bool() for m in masks] + [target == 1]
        for labels, fg in zip(fine, foreground):
            assert fg.any() and (labels[fg] == cls).all()  # foreground is the episode's class only
            assert not any((labels[fg] == novel).any() for novel in novel_classes(fold))
        assert ((target == IGNORE) == (fine[-1] == VOID)).all()
        assert query not in support_ids
        seen.add(cls)
    assert len(seen) > 3  # several base classes were drawn


def test_episodes_repeat_with_their_seed_and_have_distinct_supports(panoramas, index):
    first = Episodes(panoramas, novel_classes(0), 20, seed=7, shots=3, index=index)
    again = Episodes(panoramas, novel_classes(0), 20, seed=7, shots=3, index=index)
    assert [first.draw(i) for i in range(20)] == [again.draw(i) for i in range(20)]
    assert all(len(set(first.draw(i)[1])) == 3 for i in range(20))
    assert first[0][0].shape == (3, 3, 16, 32) and first[0][1].shape == (3, 16, 32)
    with pytest.raises(ValueError, match="no class of"):
        Episodes(panoramas, (NUM_FINE - 1,), 5, seed=0, shots=len(panoramas), index=index)


def test_support_pairs_are_fixed_and_keep_the_support_out_of_its_queries(index):
    pairs = support_pairs(index, range(NUM_FINE), per_class=2, queries=3, seed=0)
    assert pairs == support_pairs(index, range(NUM_FINE), per_class=2, queries=3, seed=0)
    assert pairs and all(s not in q and len(set(q)) == 3 and {s, *q} <= set(index[c]) for c, s, q in pairs)
    assert {c for c, _, _ in pairs} == {c for c, shown in index.items() if len(shown) > 3}
