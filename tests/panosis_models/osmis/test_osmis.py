"""OSMIS: sizes, networks, masked content attention, augmentation, losses, training with
resume, generation and the quick PanOSIS pipeline."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st
from PIL import Image
from torch import nn

import equiconv
from panosis_models.atomic import save_atomically
from tests.helpers.console import run_cli
from panosis_models.cli.osmis_train import main as osmis_main
from panosis_models.engine import checkpoint
from panosis_models.data import PanoramaFolder
from panosis_models.models.osmis.attention import masked_content, resize_mask, straight_through
from panosis_models.osmis.diff_augment import JointAugment, shift
from panosis_models.models.osmis.discriminator import Discriminator
from panosis_models.osmis.ema import ema_decay, update_ema
from panosis_models.models.osmis.feature_augment import augment_content, augment_layout
from panosis_models.osmis.generate import generate, load_generator
from panosis_models.osmis.label_check import describe, top_label_check
from panosis_models.models.osmis.generator import Generator
from panosis_models.osmis.losses import class_weights, content, diversity
from panosis_models.osmis.pair import load_pair, synthetic_pair, to_channels, to_labels
from panosis_models.models.osmis.sizes import discriminator_blocks, generator_blocks
from panosis_models.osmis.config import OsmisConfig
from panosis_models.osmis.train import train
from panosis_models.osmis.trainer import anchor_noise

SAMPLE = Path(__file__).resolve().parents[3].parent / "shared/data/cvrg-pano-sample"
TINY = dict(size=(24, 48), channels_g=2, channels_d=2, batch_size=3, iterations=4, checkpoint_every=2,
            preview_every=2, device="cpu", progress=False)


def tiny(tmp_path, name="run", **overrides) -> OsmisConfig:
    return OsmisConfig(**{**TINY, "out": str(tmp_path / name), **overrides})


@pytest.mark.parametrize("size,blocks,noise", [((128, 256), 6, (4, 8)), ((96, 192), 5, (6, 12)),
                                               ((24, 48), 3, (6, 12)), ((56, 56), 4, (7, 7)),
                                               ((3, 5), 1, (3, 5))])
def test_noise_map_is_three_to_seven_pixels_high(size, blocks, noise):
    assert generator_blocks(*size) == (blocks, noise)


def test_sizes_that_cannot_be_generated_are_refused_with_a_suggestion():
    with pytest.raises(ValueError, match="e.g. 96 or 112"):
        generator_blocks(100, 200)
    with pytest.raises(ValueError, match="width must be a multiple of 32"):
        generator_blocks(128, 250)
    with pytest.raises(ValueError, match="size 100x200"):
        OsmisConfig(size=(100, 200)).validate()


@pytest.mark.parametrize("size", [(24, 48), (32, 64), (48, 96), (64, 128), (40, 40)])
def test_generator_and_discriminator_shapes(size):
    classes, batch = 5, 2
    g = Generator(classes, size, base_channels=2)
    d = Discriminator(classes, size, base_channels=2)
    out = g(g.noise(batch))
    blocks, _ = generator_blocks(*size)
    assert [tuple(x.shape[-2:]) for x in out["images"]] == [
        (size[0] // 2 ** k, size[1] // 2 ** k) for k in reversed(range(blocks))]
    assert all(x.shape[:2] == (batch, 3) and x.abs().max() <= 1 for x in out["images"])
    assert out["mask"].shape == (batch, classes, *size)
    torch.testing.assert_close(out["mask"].sum(1), torch.ones(batch, *size))
    decisions = d(out["images"], out["mask"])
    low, branch = discriminator_blocks(*size)
    assert len(decisions["low-level"]) == low and len(decisions["layout"]) == branch
    assert [x.shape for x in decisions["content"]] == [(batch, classes, classes + 1)] * branch
    assert decisions["low-level"][0].shape == (batch, 1, size[0] // 2, size[1] // 2)


@pytest.mark.parametrize("conv,expected", [("std", nn.Conv2d), ("equi", equiconv.EquiConv2d)])
def test_every_3x3_convolution_of_both_networks_follows_conv(conv, expected):
    nets = [Generator(4, (24, 48), 2, conv=conv), Discriminator(4, (24, 48), 2, conv=conv)]
    for net in nets:
        convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, equiconv.EquiConv2d))]
        three = [m for m in convs if tuple(m.kernel_size) == (3, 3)]
        assert len(three) >= 6 and all(isinstance(m, expected) for m in three)
        if conv == "equi":
            assert not any(type(m).__mro__[1] is nn.Conv2d and m.kernel_size == (3, 3) for m in convs)
        assert all(hasattr(m, "parametrizations") for m in convs)  # spectral norm everywhere


def test_masked_content_attention_on_a_hand_made_mask():
    # a 2x4 map: class 0 on the left two columns, class 1 on the right two, class 2 nowhere
    features = torch.tensor([[1.0, 3.0, 10.0, 20.0], [5.0, 7.0, 30.0, 40.0]])[None, None]
    features = torch.cat([features, -features], dim=1)  # two channels
    labels = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 1]])
    mask = F.one_hot(labels, 3).permute(2, 0, 1)[None].float()
    vectors, present = masked_content(features, mask)
    # the spatial mean of features x mask: each class's content, scaled by its area (half each)
    torch.testing.assert_close(vectors[0], torch.tensor([[2.0, -2.0], [12.5, -12.5], [0.0, 0.0]]))
    assert present.tolist() == [[True, True, False]]
    # a soft mask weights the mean
    soft = torch.zeros(1, 1, 2, 4)
    soft[0, 0, 0, 0], soft[0, 0, 1, 3] = 3.0, 1.0
    v, _ = masked_content(features, soft)
    torch.testing.assert_close(v[0, 0], torch.tensor([(3 * 1 + 40) / 8, -(3 * 1 + 40) / 8]))
    with pytest.raises(ValueError, match="share batch and spatial size"):
        masked_content(features, mask[..., :2])


def test_masked_content_gradient_stays_bounded_for_a_vanished_class():
    # a generated hard mask without class 2 (straight-through, so the soft mask gets the
    # gradient): the vector of the vanished class must not pass a 1 / area gradient to it,
    # which flipped whole generated masks to one class in training
    features = torch.randn(1, 4, 6, 8)
    logits = 0.1 * torch.randn(1, 3, 6, 8)
    logits[:, 2] -= 1.0  # never the argmax, yet a probability of about 0.15 everywhere
    logits.requires_grad_(True)
    hard = straight_through(logits.softmax(1), sample=False)
    assert hard[:, 2].sum() == 0
    vectors, present = masked_content(features, hard)
    assert not present[0, 2] and vectors[0, 2].abs().max() == 0
    grad, = torch.autograd.grad(vectors[0, 2].sum(), logits)
    assert grad.abs().max() < features.abs().max()


def test_resized_masks_stay_a_partition_of_unity():
    labels = torch.randint(0, 4, (2, 16, 32))
    mask = F.one_hot(labels, 4).permute(0, 3, 1, 2).float()
    small = resize_mask(mask, (4, 8))
    torch.testing.assert_close(small.sum(1), torch.ones(2, 4, 8))
    torch.testing.assert_close(small.mean((2, 3)), mask.mean((2, 3)))


def test_straight_through_masks_are_hard_forward_and_soft_backward():
    logits = torch.randn(2, 5, 6, 7, requires_grad=True)
    for sample in (False, True):
        soft = logits.softmax(1)
        hard = straight_through(soft, sample)
        assert set(hard.detach().unique().tolist()) <= {0.0, 1.0}
        assert (hard.sum(1) == 1).all()  # one label per pixel, like a real mask, sampled or not
        if not sample:
            assert (hard.argmax(1) == soft.argmax(1)).all()
        weights = torch.randn_like(hard)
        grad_hard, = torch.autograd.grad((hard * weights).sum(), logits, retain_graph=True)
        grad_soft, = torch.autograd.grad((soft * weights).sum(), logits)
        torch.testing.assert_close(grad_hard, grad_soft)


def test_the_mask_starts_from_the_training_shares_and_ignores_a_shift_of_the_features():
    torch.manual_seed(0)
    g = Generator(3, (24, 48), base_channels=2, conv="equi", panorama=True).eval()
    shares = torch.tensor([0.6, 0.3, 0.1])
    g.start_from_shares(shares)
    noise = g.noise(4)
    with torch.no_grad():
        out = g(noise)
        torch.testing.assert_close(out["mask"].mean((0, 2, 3)), shares, atol=0.05, rtol=0)
        # the image losses shift the last features' mean from the first steps; read whole, that
        # shift moved every pixel's mask logits alike and fresh runs collapsed to one label
        g.blocks[-1].register_forward_hook(lambda module, args, x: x + torch.randn(1, x.shape[1], 1, 1))
        shifted = g(noise)
    torch.testing.assert_close(shifted["mask"], out["mask"])
    assert not torch.allclose(shifted["images"][-1], out["images"][-1])


def test_sampled_hard_masks_draw_each_pixels_label_from_its_probabilities():
    # a Bernoulli draw per channel (as OSMIS) would leave 53 % of these pixels with no label
    # or several
    torch.manual_seed(0)
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    soft = probs.view(1, 4, 1, 1).expand(4, 4, 100, 100)
    hard = straight_through(soft, sample=True)
    assert (hard.sum(1) == 1).all()
    torch.testing.assert_close(hard.mean((0, 2, 3)), probs, atol=0.01, rtol=0)


def test_content_feature_augmentation_mixes_only_classes_both_images_have():
    torch.manual_seed(0)
    vectors = torch.arange(2 * 3 * 20, dtype=torch.float).reshape(2, 3, 20)
    present = torch.tensor([[True, True, False], [True, False, True]])
    changed = set()
    for _ in range(20):
        out = augment_content(vectors, present, prob=1.0)
        dropped = (out == 0) & (vectors != 0)
        assert dropped.any(dim=(0, 1)).sum() <= 20 * 0.3 + 1
        swapped = (out != vectors) & ~dropped
        changed |= {(b, n) for b, n in swapped.any(-1).nonzero().tolist()}
        # a swapped value comes from the same class of the partner image
        b, n, c = swapped.nonzero().unbind(1)
        torch.testing.assert_close(out[b, n, c], vectors[1 - b, n, c])
    assert changed == {(0, 0), (1, 0)}


def test_layout_feature_augmentation_swaps_rectangles_across_the_seam():
    torch.manual_seed(1)
    maps = torch.stack([torch.zeros(2, 8, 16), torch.ones(2, 8, 16)])
    seen_wrap = False
    for _ in range(50):
        out = augment_layout(maps, prob=1.0, wrap=True)
        torch.testing.assert_close(out[0] + out[1], torch.ones(2, 8, 16))  # a swap, nothing lost
        cols = out[0, 0].amax(0).nonzero()[:, 0]
        assert 0 < len(cols) < 16
        seen_wrap |= bool(cols.min() == 0 and cols.max() == 15 and len(cols) < 16)
        straight = augment_layout(maps, prob=1.0, wrap=False)[0, 0].amax(0).nonzero()[:, 0]
        assert straight.max() - straight.min() + 1 == len(straight)  # one piece, never wrapped
    assert seen_wrap


@given(st.integers(1, 4), st.integers(-20, 20), st.booleans())
def test_shift_is_a_roll_for_whole_pixels(scale, pixels, wrap):
    x = torch.randn(2, 3, 4, 8 * scale, dtype=torch.float64)
    amount = torch.tensor([pixels / x.shape[-1], 0.0], dtype=torch.float64)
    out = shift(x, amount, 3, wrap=wrap)
    expected = x[0].roll(pixels, -1)
    if not wrap:
        cols = torch.arange(x.shape[-1]) - pixels
        expected = expected * ((cols >= 0) & (cols < x.shape[-1]))
    torch.testing.assert_close(out[0], expected)
    torch.testing.assert_close(out[1], x[1])


def test_shift_commutes_with_downsampling_for_even_pixel_shifts():
    x = torch.randn(3, 3, 8, 32, dtype=torch.float64)
    amount = torch.tensor([2 / 32, 6 / 32, -10 / 32], dtype=torch.float64)
    torch.testing.assert_close(F.avg_pool2d(shift(x, amount, 3, wrap=True), 2),
                               shift(F.avg_pool2d(x, 2), amount, 3, wrap=True))


@pytest.mark.parametrize("panorama", [True, False])
def test_joint_augmentation_moves_images_and_mask_together(panorama):
    torch.manual_seed(2)
    labels = torch.randint(0, 3, (4, 16, 32))
    mask = F.one_hot(labels, 3).permute(0, 3, 1, 2).double()
    images = [F.avg_pool2d(mask, 2) * 2 - 1, mask * 2 - 1]  # images made of the mask, two scales
    (small, big), out_mask = JointAugment(panorama=panorama, prob=1.0, colour=False)(images, mask)
    # shifts are linear and cutout multiplies: 2 M - 1 becomes 2 M' - (the part still covered)
    torch.testing.assert_close(big, 2 * out_mask - out_mask.sum(1, keepdim=True))
    assert small.shape == (4, 3, 8, 16)
    assert (out_mask.sum(1) == 0).any(-1).any(-1).all()  # every sample has its cutout
    if panorama:  # turning and mirroring keep every row's content: only longitudes move
        _, turned = JointAugment(panorama=True, prob=1.0, colour=False, cutout=False)(images, mask)
        torch.testing.assert_close(turned.sum(-1), mask.sum(-1))
        assert not torch.equal(turned, mask)


def test_colour_augmentation_changes_the_images_only_and_identically_at_every_scale():
    image, mask = torch.rand(2, 3, 8, 16) * 2 - 1, torch.rand(2, 4, 8, 16)
    torch.manual_seed(3)
    (a, b), coloured_mask = JointAugment(panorama=True, prob=1.0)([image, image.clone()], mask)
    torch.manual_seed(3)
    (plain, _), plain_mask = JointAugment(panorama=True, prob=1.0, colour=False)([image, image.clone()], mask)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(coloured_mask, plain_mask)
    assert not torch.allclose(a, plain)


def test_losses():
    mask = torch.zeros(3, 4, 4)
    mask[0, :, :2], mask[1, :, 2:], mask[2, 0, 2] = 1, 1, 1
    mask[1, 0, 2] = 0
    w = class_weights(mask)
    assert w.mean().item() == pytest.approx(1) and w[2] > w[0]
    torch.testing.assert_close(class_weights(mask[None].expand(3, -1, -1, -1)), w)  # a batch of it
    # weights follow the judged masks: a class absent from them gets none
    batch = torch.zeros(2, 3, 4, 4)
    batch[:, 0, :, :1], batch[:, 1, :, 1:] = 1, 1
    w = class_weights(batch)
    assert w[2] == 0 and w[0] > w[1] and w[:2].mean().item() == pytest.approx(1)
    with pytest.raises(ValueError, match="no class"):
        class_weights(torch.zeros(2, 3, 3))
    # a perfect content decision costs nothing; every (image, class) is scored, with its weight
    perfect = torch.full((2, 2, 3), -50.0)
    perfect[:, 0, 0] = perfect[:, 1, 1] = 50.0
    even = torch.ones(2, 2, 4, 4) / 2
    assert content([perfect], even, real=True).item() < 1e-6
    assert content([perfect], even, real=False).item() > 10
    wrong = perfect.clone()
    wrong[0, 1] = torch.tensor([50.0, -50.0, -50.0])  # image 0's class 1 judged as class 0
    rare_1, rare_0 = torch.zeros(2, 2, 4, 4), torch.zeros(2, 2, 4, 4)
    rare_1[:, 0], rare_1[:, 1, 0, 0] = 1, 1
    rare_0[:, 1], rare_0[:, 0, 0, 0] = 1, 1
    heavy, light = (content([wrong], m, real=True).item() for m in (rare_1, rare_0))
    assert heavy > light > 1
    # judged as generated, all decisions weigh the same, whatever the mask
    assert content([wrong], rare_1, real=False).item() == pytest.approx(content([wrong], rare_0, real=False).item())
    same = [torch.ones(4, 3, 5, 5)]
    assert diversity(same).item() == 0 and diversity([torch.randn(4, 3, 5, 5)]).item() < 0
    assert diversity([torch.randn(1, 3, 5, 5)]).item() == 0


def test_ema_warms_up_and_copies_buffers():
    assert ema_decay(0, 0.9999) == pytest.approx(0.1) and ema_decay(10**7, 0.9999) == 0.9999
    model, average = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    with torch.no_grad():
        model.weight.fill_(3.0)
        model.running_mean.fill_(5.0)
    update_ema(average, model, 0.75)
    torch.testing.assert_close(average.weight, torch.full((3,), 1.5))
    torch.testing.assert_close(average.running_mean, torch.full((3,), 5.0))


def test_label_set_maps_channels_to_cvrg_pano_labels():
    labels = torch.tensor([[0, 2, 7], [7, 7, 2]])
    channels = to_channels(labels, (0, 2, 7))
    assert channels.tolist() == [[0, 1, 2], [2, 2, 1]]
    assert torch.equal(to_labels(channels, (0, 2, 7)), labels)
    with pytest.raises(ValueError, match=r"labels \[3\] are not in the label set"):
        to_channels(torch.tensor([3, 2]), (0, 2, 7))
    pair = synthetic_pair(0, (24, 48))
    assert pair.image.shape == (3, 24, 48) and -1 <= pair.image.min() and pair.image.max() <= 1
    assert torch.equal(pair.one_hot().argmax(0), to_channels(pair.labels, pair.label_set))


def _weights(path):
    return checkpoint.load(path)["ema"]


@pytest.mark.slow  # a training run
def test_tiny_training_moves_its_losses_and_resumes_bit_identically(tmp_path):
    # an explicit warm-up: by default it is a quarter of the iterations, which the interrupted
    # run (asked for 6) would otherwise set differently
    summary = train(tiny(tmp_path, "straight", iterations=12, warmup=3))
    history = summary and json.loads((tmp_path / "straight" / "summary.json").read_text())
    state = checkpoint.load(tmp_path / "straight" / "last.pt")
    steps = state["history"]
    assert [h["step"] for h in steps] == [10, 12] and history["steps"] == 12
    assert all(np.isfinite(v) for h in steps for v in h.values())
    assert steps[0]["d_real"] != steps[1]["d_real"] and steps[0]["g_content"] != steps[1]["g_content"]
    assert sorted(p.name for p in (tmp_path / "straight" / "previews").iterdir())[-1] == "step_0000012.png"
    assert (tmp_path / "straight" / "losses.png").stat().st_size > 0

    train(tiny(tmp_path, "interrupted", iterations=6, warmup=3))
    osmis_main(["--out", str(tmp_path / "interrupted"), "--size", "24x48", "--channels-g", "2",
                "--channels-d", "2", "--batch-size", "3", "--iterations", "12", "--checkpoint-every", "2",
                "--preview-every", "2", "--warmup", "3", "--device", "cpu", "--no-progress", "--resume"])
    resumed = checkpoint.load(tmp_path / "interrupted" / "last.pt")
    assert resumed["step"] == 12
    for key in ("generator", "discriminator", "ema"):
        for name, value in state[key].items():
            assert torch.equal(value, resumed[key][name]), f"{key}.{name} differs after resume"


@pytest.mark.slow  # a training run
def test_resume_refuses_a_different_network(tmp_path):
    train(tiny(tmp_path))
    with pytest.raises(ValueError, match=r"cannot resume .*channels_g=2 \(now 4\)"):
        train(tiny(tmp_path, channels_g=4, resume=True))


@pytest.mark.slow  # a training run
def test_generate_writes_a_folder_the_unet_reads(tmp_path):
    cfg = tiny(tmp_path, conv="equi")
    train(cfg)
    out = generate(tmp_path / "run" / "last.pt", 5, tmp_path / "set", batch_size=2, seed=7, progress=False)
    data = PanoramaFolder(out)
    assert len(data) == 5
    _, label_set, _ = load_generator(tmp_path / "run" / "last.pt")
    for image, mask in data:
        assert image.shape == (3, 24, 48) and mask.shape == (24, 48)
        assert set(mask.unique().tolist()) <= set(label_set)
    assert Image.open(out / "mask" / "000000.png").mode == "L"
    assert Image.open(out / "colour" / "000000.png").mode == "RGB"
    # the label statistics agree with the masks written, and name the training mask's shares
    info = json.loads((out / "generated.json").read_text())
    masks = torch.stack([mask for _, mask in data])
    for label in label_set:
        assert info["label_shares"][str(label)] == pytest.approx((masks == label).double().mean().item(), abs=1e-4)
    held = sum(((m == k).double().mean() >= 0.01).item() for m in masks for k in label_set) / len(masks)
    assert info["labels_per_mask"] == pytest.approx(held, abs=1e-3)
    assert sum(info["training_label_shares"].values()) == pytest.approx(1, abs=1e-3)
    again = generate(tmp_path / "run" / "last.pt", 5, tmp_path / "again", batch_size=3, seed=7, progress=False)
    for name in ("rgb/000004.png", "mask/000004.png"):
        assert np.array_equal(np.asarray(Image.open(out / name)), np.asarray(Image.open(again / name)))
    with pytest.raises(ValueError, match="already holds files"):
        generate(tmp_path / "run" / "last.pt", 2, out, progress=False)
    unet_like = tmp_path / "unet.pt"
    save_atomically({"model": {}}, unet_like)
    with pytest.raises(ValueError, match="not an OSMIS checkpoint"):
        load_generator(unet_like)


def test_the_label_check_compares_the_training_masks_three_largest_labels():
    training = {"1": 0.44, "2": 0.20, "3": 0.001, "4": 0.02, "5": 0.33, "7": 0.009}
    # the collapsed set of the issue: only flat and sky
    collapsed = top_label_check({"1": 0.21, "2": 0.0, "5": 0.79}, training)
    assert [x["name"] for x in collapsed["labels"]] == ["flat", "sky", "construction"]
    assert [x["off"] for x in collapsed["labels"]] == [0.23, 0.46, 0.2]
    assert not collapsed["within"]
    assert "WARNING: flat, sky, construction off by more than 15 points" in describe(collapsed)
    # small labels may be missing; the checked ones may be off by up to 15 points
    close = top_label_check({"1": 0.58, "2": 0.06, "5": 0.36, "4": 0.0}, training)
    assert close["within"] and "WARNING" not in describe(close)
    assert not top_label_check({"1": 0.60, "2": 0.04, "5": 0.36}, training)["within"]


@pytest.mark.slow  # a training run
@pytest.mark.skipif(not (SAMPLE / "mask.png").exists(), reason=f"the real CVRG-Pano sample is not at {SAMPLE}")
def test_the_real_cvrg_pano_pair_trains(tmp_path):
    pair = load_pair(SAMPLE / "image.png", SAMPLE / "mask.png", (48, 96))
    assert {1, 2, 5} <= set(pair.label_set) <= set(range(8))
    summary = train(tiny(tmp_path, image=str(SAMPLE / "image.png"), mask=str(SAMPLE / "mask.png"),
                         size=(48, 96), iterations=2))
    assert summary["label_set"] == list(pair.label_set)


def test_bad_configurations_name_the_argument(tmp_path):
    for overrides, message in [({"conv": "sphere"}, "conv must be one of"),
                               ({"image": "x.png"}, "image and mask must be given together"),
                               ({"iterations": 0}, "iterations must be at least 1"),
                               ({"augment": 1.5}, "augment must lie in"),
                               ({"warmup": -1}, "warmup must be a whole number of steps, at least 0"),
                               ({"warmup": None}, "warmup must be a whole number"),
                               ({"ema": 1.0}, "0 <= ema < 1"),
                               ({"reconstruction": -0.5}, "reconstruction >= 0 .*reconstruction=-0.5")]:
        with pytest.raises(ValueError, match=message):
            tiny(tmp_path, **overrides).validate()


@pytest.mark.slow  # a training run
def test_quick_pipeline_runs_end_to_end(tmp_path):
    result = run_cli("panosis-pipeline", "--quick", "--iterations", "3", "--num", "6", "--epochs", "1",
                     "--out", tmp_path / "p", "--device", "cpu", "--no-progress", "--seed", "1")
    assert result.returncode == 0, result.stderr
    rows = json.loads((tmp_path / "p" / "results.json").read_text())["rows"]
    learned = [("unet", "OSMIS set + pair", "std"), ("unet", "OSMIS set + pair", "equi"), ("unet", "the one pair", "std"),
               ("unet", "the one pair", "equi")]
    baselines = [("pair mask copied", "the one pair", "-"), ("colour in pair rows", "the one pair", "-")]
    assert [(r["model"], r["train"], r["conv"], r["test"]) for r in rows] == [
        (*row, test) for test in ("level", "tilted") for row in learned + baselines]
    assert all(0 <= r["metrics"]["miou"] <= 1 and r["items"] == 24 for r in rows)
    assert all(r["checkpoint"].endswith("last.pt") for r in rows if r["model"] == "unet")
    results = json.loads((tmp_path / "p" / "results.json").read_text())
    assert set(results["seconds"]) == {"osmis", "generate", "unet", "test"}
    assert results["pair"] == "synthetic (world 0)"  # --seed seeds training and test worlds, not the pair
    assert results["images_seen"] == 7 and results["osmis_budget"]["fraction"] == 3 / 150_000
    assert results["generated"]["label_shares"].keys() == results["generated"]["training_label_shares"].keys()
    checked = results["generated"]["top_labels"]["labels"]
    assert [x["name"] for x in checked] == ["flat", "sky", "construction"]
    assert all(f"{x['name']}: " in result.stdout for x in checked)
    rows_text, comparisons = (tmp_path / "p" / "table.md").read_text().split("\n\n")
    assert rows_text.count("\n") == 13 and comparisons.count("equi - std") == 4  # 12 rows; 4 comparisons
    assert len(PanoramaFolder(tmp_path / "p" / "generated")) == 6


def test_a_spherical_panorama_generator_is_equivariant_to_turning():
    g = Generator(3, (24, 48), base_channels=2, conv="equi", panorama=True).eval()
    noise = g.noise(2)
    blocks, _ = generator_blocks(24, 48)
    scale = 2 ** (blocks - 1)
    with torch.no_grad():
        out, turned = g(noise), g(noise.roll(3, -1))
    torch.testing.assert_close(turned["mask"], out["mask"].roll(3 * scale, -1), atol=1e-5, rtol=1e-4)
    for k, image in enumerate(out["images"]):  # every scale turns by its own number of columns
        step = 3 * 2 ** k
        torch.testing.assert_close(turned["images"][k], image.roll(step, -1), atol=1e-5, rtol=1e-4)
    # a standard generator pads with zeros at the seam, and an ordinary image's position code
    # is per cell: neither is equivariant
    for other in (Generator(3, (24, 48), 2, conv="std", panorama=True),
                  Generator(3, (24, 48), 2, conv="equi", panorama=False)):
        with torch.no_grad():
            a, b = other.eval()(noise)["images"][-1], other(noise.roll(3, -1))["images"][-1]
        assert not torch.allclose(b, a.roll(3 * scale, -1), atol=1e-4)


@pytest.mark.slow  # a training run
def test_the_anchor_noise_learns_where_each_label_lies(tmp_path):
    # without the reconstruction term a short run spreads labels as a haze over every pixel;
    # with it the anchor noise's mask follows the training mask within a few dozen steps
    agreement = {}
    for weight in (0.0, 1.0):
        cfg = tiny(tmp_path, f"w{weight}", reconstruction=weight, iterations=40, channels_g=8, channels_d=4,
                   checkpoint_every=40, preview_every=40)
        train(cfg)
        state = checkpoint.load(Path(cfg.out) / "last.pt")
        generator = Generator(**state["generator_args"])
        generator.load_state_dict(state["generator"])
        pair = synthetic_pair(cfg.pair_seed, cfg.size)
        with torch.no_grad():
            channels = generator(anchor_noise(generator, cfg.seed))["mask"].argmax(1)[0]
        agreement[weight] = (channels == to_channels(pair.labels, pair.label_set)).float().mean().item()
    assert agreement[1.0] > 0.8 > agreement[0.0], agreement
