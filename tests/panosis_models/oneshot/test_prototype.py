"""The prototype network's logits are the scaled cosine similarities to its masked-average
prototypes, and OSLSM's hashed generator is a fixed projection of the pooled support features."""
import torch
import torch.nn.functional as F

from panosis_models.models.episodic import masked_average
from panosis_models.models.oslsm import OSLSM, weight_hashing
from panosis_models.models.prototype import PrototypeNet


def episode(gen, n=2, height=16, width=32):
    return (torch.rand(n, 3, height, width, generator=gen), torch.rand(n, 3, height, width, generator=gen),
            (torch.rand(n, height, width, generator=gen) > 0.6).float())


def test_prototype_logits_are_scaled_cosine_differences():
    torch.manual_seed(0)
    model = PrototypeNet(channels=(4, 8), scale=10.0).eval()
    query, support, mask = episode(torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = model(query, support, mask)
        features, support_features = model.encoder(query), model.encoder(support)
        fg, bg = masked_average(support_features, mask, 2), masked_average(support_features, 1 - mask, 2)
        cells = 10.0 * (F.cosine_similarity(features, fg[:, :, None, None], dim=1) -
                        F.cosine_similarity(features, bg[:, :, None, None], dim=1))
        cell = features[:, :, 3, 5]
        expected = 10.0 * (F.cosine_similarity(cell, fg) - F.cosine_similarity(cell, bg))
    assert torch.allclose(cells[:, 3, 5], expected, atol=1e-6)
    assert torch.allclose(model.resize(cells[:, None], query.shape[-2:])[:, 0], logits, atol=1e-6)
    assert logits.abs().max() <= 20.0 + 1e-4
    # the support mask swapped with its complement: the logits change sign
    with torch.no_grad():
        assert torch.allclose(model(query, support, 1 - mask), -logits, atol=1e-5)


def test_weight_hashing_reads_each_input_with_a_fixed_sign():
    matrix = weight_hashing(8, 9, seed=0)
    assert (matrix.abs().sum(1) == 1).all() and matrix.abs().sum(0).tolist().count(2) == 1
    assert torch.equal(matrix, weight_hashing(8, 9, seed=0)) and not torch.equal(matrix, weight_hashing(8, 9, seed=1))


def test_hashed_oslsm_weights_are_a_fixed_projection_of_the_pooled_support():
    torch.manual_seed(0)
    model = OSLSM(channels=(4, 8), generator="hashed").eval()
    assert "hashing" in dict(model.named_buffers()) and all(p.shape != (9, 8) for p in model.parameters())
    query, support, mask = episode(torch.Generator().manual_seed(1))
    with torch.no_grad():
        w, b = model.classifier_of(support, mask)
        pooled = masked_average(model.condition(support * mask[:, None]), mask, 2)
        assert torch.allclose(torch.cat([w, b[:, None]], 1), pooled @ model.hashing.t())
        logits = torch.einsum("nc,nchw->nhw", w, model.head(model.segment(query))) + b[:, None, None]
        assert torch.allclose(model(query, support, mask), model.resize(logits[:, None], (16, 32))[:, 0], atol=1e-5)


def test_oslsm_starts_from_a_pretrained_encoder_and_fine_tunes_its_conditioning_branch_slowly():
    torch.manual_seed(0)
    prototype, model = PrototypeNet(channels=(4, 8)), OSLSM(channels=(4, 8), generator="hashed")
    model.start_from(prototype.encoder.state_dict())
    for branch in (model.condition, model.segment):
        assert all(torch.equal(a, b) for a, b in zip(branch.state_dict().values(),
                                                     prototype.encoder.state_dict().values()))
    slow, fast = model.parameter_groups(1e-3, 1e-4)
    assert slow["lr"] == 1e-4 and fast["lr"] == 1e-3
    assert {id(p) for p in slow["params"]} == {id(p) for p in model.condition.parameters()}
    assert len(slow["params"]) + len(fast["params"]) == len(list(model.parameters()))


def test_with_latitude_the_encoders_read_each_rows_latitude():
    from panosis_models.models.episodic import latitude_plane
    plane = latitude_plane(torch.zeros(2, 3, 4, 6))
    assert plane.shape == (2, 1, 4, 6) and plane[0, 0, :, 0].tolist() == [0.75, 0.25, -0.25, -0.75]
    assert (plane == plane[..., :1]).all()  # constant along a row
    torch.manual_seed(0)
    for model in (PrototypeNet(channels=(4, 8), latitude=True), OSLSM(channels=(4, 8), generator="hashed", latitude=True)):
        query, support, mask = episode(torch.Generator().manual_seed(2))
        image = torch.rand(2, 3, 16, 32)
        assert torch.equal(model.inputs(image), torch.cat([image, latitude_plane(image)], 1))
        assert model(query, support, mask).shape == (2, 16, 32)
        first = next(p for p in model.parameters() if p.dim() == 4)
        assert first.shape[1] == 4
        with torch.no_grad():
            before = model.eval()(query, support, mask)
            first[:, 3] = 0  # the latitude unread: other logits
            assert not torch.allclose(before, model(query, support, mask))


def test_with_cues_the_colour_and_row_cues_join_the_logit_by_learned_weights():
    from panosis_models.models.episodic import colour_logits
    torch.manual_seed(0)
    plain, cued = PrototypeNet(channels=(4, 8), scale=10.0), PrototypeNet(channels=(4, 8), scale=10.0, cues=True)
    cued.load_state_dict({**plain.state_dict(), "cue_weights": torch.zeros(2)})
    assert "cues=True" in repr(cued) and "cues=False" in repr(plain)
    query, support, mask = episode(torch.Generator().manual_seed(3))
    mask[:, 10:] = 0  # the support shows the class in rows 0..9 only
    plain.eval(), cued.eval()
    with torch.no_grad():
        base = plain(query, support, mask)
        assert torch.equal(cued(query, support, mask), base)  # zero weights: the plain network
        cued.cue_weights.copy_(torch.tensor([0.5, 2.0]))
        shown = torch.zeros(2, 16, 1)
        shown[:, :10] = 1
        expected = base + 10.0 * (0.5 * colour_logits(query, support, mask) + 2.0 * (shown - 1))
        assert torch.allclose(cued(query, support, mask), expected, atol=1e-5)
    # the weights learn: a loss on the logits reaches them
    cued.train()
    cued(query, support, mask).sum().backward()
    assert cued.cue_weights.grad is not None and (cued.cue_weights.grad != 0).all()


def test_oslsm_with_cues_adds_them_in_logit_units_starting_from_the_prototype_networks_weights():
    from panosis_models.models.episodic import colour_logits
    torch.manual_seed(0)
    plain = OSLSM(channels=(4, 8), generator="hashed")
    cued = OSLSM(channels=(4, 8), generator="hashed", cues=True)
    cued.load_state_dict({**plain.state_dict(), "cue_weights": torch.zeros(2)})
    assert "cues=True" in repr(cued) and "cues=False" in repr(plain)
    query, support, mask = episode(torch.Generator().manual_seed(4))
    mask[:, 10:] = 0
    plain.eval(), cued.eval()
    with torch.no_grad():
        base = plain(query, support, mask)
        assert torch.equal(cued(query, support, mask), base)
        prototype = PrototypeNet(channels=(4, 8), cues=True)
        cued.start_from(prototype.encoder.state_dict(), torch.tensor([3.0, 1.5]))
        plain.start_from(prototype.encoder.state_dict(), torch.tensor([3.0, 1.5]))  # no cues: nothing to start
        assert cued.cue_weights.tolist() == [3.0, 1.5] and plain.cue_weights is None
        shown = torch.zeros(2, 16, 1)
        shown[:, :10] = 1
        expected = plain(query, support, mask) + 3.0 * colour_logits(query, support, mask) + 1.5 * (shown - 1)
        assert torch.allclose(cued(query, support, mask), expected, atol=1e-5)


def test_an_oslsm_run_starts_its_cues_from_the_prototype_run_in_logit_units(tmp_path):
    from panosis_models.oneshot.config import OneShotConfig, build_model
    from panosis_models.oneshot.train import KIND, pretrained_start
    cfg = OneShotConfig(fold=1, channels=(4, 8))
    prototype = build_model(cfg)
    with torch.no_grad():
        prototype.cue_weights.copy_(torch.tensor([0.25, -0.5]))
    torch.save({"kind": KIND, "config": cfg.__dict__, "model": prototype.state_dict()}, tmp_path / "p.pt")
    encoder, cues = pretrained_start(OneShotConfig(fold=1, channels=(4, 8), method="oslsm", cues=True,
                                                   pretrained=str(tmp_path / "p.pt")))
    assert cues.tolist() == [0.25 * prototype.scale, -0.5 * prototype.scale]
    assert encoder.keys() == prototype.encoder.state_dict().keys()


def test_the_cues_are_on_by_default_for_both_methods_and_off_in_older_checkpoints():
    from panosis_models.oneshot.config import OneShotConfig, build_model
    assert OneShotConfig().cues and build_model(OneShotConfig()).cue_weights is not None
    assert build_model(OneShotConfig(method="oslsm")).cue_weights is not None
    assert not build_model(OneShotConfig(method="oslsm", cues=False)).cue_weights
    assert not OneShotConfig.from_dict({"method": "prototype", "fold": 1}).cues  # saved before the field
    assert OneShotConfig.from_dict({**OneShotConfig(cues=False).__dict__}).cues is False


def test_the_alignment_loss_is_on_by_default_for_the_prototype_method_only_and_off_in_older_checkpoints():
    from panosis_models.oneshot.config import OneShotConfig
    assert OneShotConfig().align == 1.0 and OneShotConfig(method="oslsm").align == 0.0
    assert OneShotConfig.from_dict({"method": "prototype", "fold": 1}).align == 0.0  # saved before the field
    assert OneShotConfig.from_dict({**OneShotConfig(align=0.0).__dict__}).align == 0.0


def test_the_alignment_term_adds_the_support_predicted_back_from_the_querys_own_mask():
    from panosis_models.data.episodes import IGNORE
    from panosis_models.oneshot.loop import episode_loss
    torch.manual_seed(0)
    model = PrototypeNet(channels=(4, 8), scale=10.0, cues=True)
    query, support, mask = episode(torch.Generator().manual_seed(5))
    target = (torch.rand(2, 16, 32, generator=torch.Generator().manual_seed(6)) > 0.5).long()
    target[:, :2] = IGNORE  # void: costs nothing
    supports, masks = support[:, None], mask[:, None]
    plain = episode_loss(model, supports, masks, query, target, None)
    assert torch.equal(episode_loss(model, supports, masks, query, target, None, align=0.0), plain)
    with torch.no_grad():
        predicted = (model(query, support, mask) > 0).float()
        back = F.binary_cross_entropy_with_logits(model(support, query, predicted), mask)
    aligned = episode_loss(model, supports, masks, query, target, None, align=0.5)
    assert torch.allclose(aligned, plain + 0.5 * back, atol=1e-6)
    aligned.backward()
    assert all(p.grad is not None for p in model.parameters())
