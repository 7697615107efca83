"""Glyphs on the sphere and the latitude-generalisation experiment."""
import json

import pytest
import torch

import equiconv
from panosis_models.cli.experiment import main as experiment_main
from panosis_models.data.glyphs import GLYPHS, SphereGlyphs, draw
from panosis_models.experiments import latitude
from panosis_models.models.glyphnet import GlyphNet
from panosis_models.sphere_metrics import pixel_areas

H, W = 48, 96


def one(kind, lat, lon=0.0, scale=1.0):
    return draw(torch.tensor([kind]), torch.tensor([lat], dtype=torch.float64), torch.tensor([lon], dtype=torch.float64),
                torch.tensor([scale], dtype=torch.float64), H, W)[0, 0]


def test_a_glyph_lies_where_it_is_drawn():
    disk = one(0, 0.0)
    rows, cols = (disk > 0.5).nonzero().T
    assert abs(rows.float().mean() - (H - 1) / 2) < 0.6 and abs(cols.float().mean() - (W - 1) / 2) < 0.6
    east = one(0, 0.0, lon=90.0)  # a quarter turn east: a quarter of the width to the right
    assert abs((east > 0.5).nonzero()[:, 1].float().mean() - (W - 1) / 2 - W / 4) < 0.6
    north = one(0, 45.0)
    assert (north > 0.5).nonzero()[:, 0].float().mean() < H / 2 - 0.2 * H


@pytest.mark.parametrize("kind", range(len(GLYPHS)))
def test_a_glyph_covers_the_same_patch_of_sphere_at_any_latitude(kind):
    """Its solid angle stays put while its pixel count grows about 1 / cos(latitude)."""
    areas = pixel_areas(H, W)[:, None].float()
    equator, north = one(kind, 0.0), one(kind, 60.0)
    assert (north * areas).sum() == pytest.approx(float((equator * areas).sum()), rel=0.1)
    assert north.sum() > 1.6 * equator.sum()


def test_glyph_sets_are_seeded_and_keep_to_their_latitudes():
    data = SphereGlyphs(20, 24, 48, latitudes=(40, 60), seed=3)
    again = SphereGlyphs(20, 24, 48, latitudes=(40, 60), seed=3)
    assert torch.equal(data.images, again.images) and torch.equal(data.labels, again.labels)
    assert ((data.latitudes.abs() >= 40) & (data.latitudes.abs() <= 60)).all()
    assert (data.latitudes > 0).any() and (data.latitudes < 0).any()
    image, label = data[0]
    assert image.shape == (1, 24, 48) and 0 <= label < len(GLYPHS)
    with pytest.raises(ValueError, match="latitudes"):
        SphereGlyphs(1, 8, 16, latitudes=(30, 10))


@pytest.mark.parametrize("conv, kind", [("std", torch.nn.Conv2d), ("equi", equiconv.EquiConv2d)])
def test_glyphnet_convolutions_follow_the_switch(conv, kind):
    net = GlyphNet(5, conv=conv)
    assert sum(isinstance(m, kind) for m in net.modules()) == 3
    assert net(torch.zeros(2, 1, 16, 32)).shape == (2, 5)


def test_latitude_experiment_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setitem(latitude.PRESETS, "tiny", dict(size=(16, 32), channels=(4, 8), num_train=20,
                                                        num_test=6, epochs=1, batch_size=10))
    experiment_main(["--study", "latitude", "--preset", "tiny", "--seeds", "0,1", "--out", str(tmp_path),
                     "--device", "cpu", "--no-progress"])
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results["rows"]) == 2 * len(latitude.NETWORKS) * len(latitude.TEST_BANDS)
    assert set(results["summary"]) == set(latitude.NETWORKS)
    assert all(v["std"] is not None for per_band in results["summary"].values() for v in per_band.values())
    assert "± " in (tmp_path / "table.md").read_text() and (tmp_path / "latitude.png").stat().st_size > 0


def test_projection_flags_are_refused_for_the_latitude_study(capsys):
    with pytest.raises(SystemExit):
        experiment_main(["--study", "latitude", "--labels", "fine", "--resume"])
    assert "--labels, --resume apply to --study projection only" in capsys.readouterr().err
