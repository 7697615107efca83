"""The CVRG-Pano label scheme: palette, conversions both ways, PNG reading and the converter."""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from panosis_models.cli import convert_masks
from panosis_models.data.palette import CLASS_NAMES, PALETTE, colour_to_labels, labels_to_colour
from panosis_models.data.pngfiles import read_mask

SAMPLE = Path(__file__).resolve().parents[3].parent / "shared/data/cvrg-pano-sample"


def test_palette_is_the_osmis_palette_in_rgb_order():
    assert CLASS_NAMES == ("unlabelled", "flat", "construction", "object", "nature", "sky",
                           "person", "vehicle")
    want = [[0, 0, 0], [255, 0, 0], [0, 255, 0], [255, 255, 0], [0, 0, 255], [255, 0, 255],
            [0, 255, 255], [255, 255, 255]]
    assert PALETTE.tolist() == want
    assert labels_to_colour(np.arange(8).reshape(1, 8)).tolist() == [want]


@given(arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)),
              elements=st.integers(0, 7)))
def test_labels_colour_labels_round_trip(labels):
    colour = labels_to_colour(labels)
    assert colour.shape == labels.shape + (3,) and colour.dtype == np.uint8
    np.testing.assert_array_equal(colour_to_labels(colour), labels)


def test_unknown_colours_are_an_error_with_count_and_example():
    colour = labels_to_colour(np.full((4, 5), 5, dtype=np.uint8))
    colour[0, :3] = (1, 2, 3)
    with pytest.raises(ValueError, match=r"3 pixels .*\(1, 2, 3\)"):
        colour_to_labels(colour)


@pytest.mark.parametrize("labels", [np.array([[0, 8]]), np.array([[-1, 2]]),
                                    np.zeros((2, 2, 2), int), np.zeros((2, 2), float)])
def test_bad_labels_are_an_error(labels):
    with pytest.raises(ValueError, match="labels"):
        labels_to_colour(labels)


def test_colour_masks_are_read_as_rgb_not_bgr(tmp_path):
    colour = labels_to_colour(np.array([[1, 4, 3]], dtype=np.uint8))
    Image.fromarray(colour).save(tmp_path / "m.png")
    assert read_mask(tmp_path / "m.png", colour=True).tolist() == [[1, 4, 3]]  # red is flat


def test_converter_round_trip_on_a_folder(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "labels").mkdir()
    masks = {f"m{i}.png": rng.integers(0, 8, (6, 10), dtype=np.uint8) for i in range(3)}
    for name, mask in masks.items():
        Image.fromarray(mask).save(tmp_path / "labels" / name)
    convert_masks.main(["--to", "colour", str(tmp_path / "labels"), str(tmp_path / "colour")])
    convert_masks.main(["--to", "labels", str(tmp_path / "colour"), str(tmp_path / "back")])
    for name, mask in masks.items():
        assert Image.open(tmp_path / "colour" / name).mode == "RGB"
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "back" / name)), mask)


@pytest.mark.skipif(not (SAMPLE / "mask.png").exists(),
                    reason=f"the real CVRG-Pano sample is not at {SAMPLE}")
def test_real_cvrg_pano_mask_round_trip():
    # The sample mask is a single-channel index mask (mode L) holding labels {0,1,2,3,4,5,7}.
    labels = read_mask(SAMPLE / "mask.png")
    assert labels.shape == (832, 1664)
    assert set(np.unique(labels).tolist()) <= set(range(8))
    assert {1, 2, 5} <= set(np.unique(labels).tolist())  # a street: ground, buildings, sky
    np.testing.assert_array_equal(colour_to_labels(labels_to_colour(labels)), labels)
