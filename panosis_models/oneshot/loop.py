"""The episodic pieces: ``episode_loss`` (binary cross-entropy on the query, void pixels cost
nothing; with ``align``, PANet's prototype alignment term besides; the engine's trainer
minimises it) and ``evaluate`` (k-shot masks of the test episodes scored per class, shared out
over processes)."""
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from panosis_models.data.episodes import IGNORE
from panosis_models.engine import distributed
from panosis_models.engine.loop import autocast
from panosis_models.models.episodic import within_support_rows
from panosis_models.oneshot.metrics import AGGREGATIONS, EpisodeScores, aggregate
from panosis_models.oneshot.support_check import SupportCheck, candidates


def episode_loss(net, supports: torch.Tensor, masks: torch.Tensor, query: torch.Tensor, target: torch.Tensor,
                 _classes, align: float = 0.0) -> torch.Tensor:
    """Binary cross-entropy of each query's prediction from its first support (void costs nothing);
    with ``align`` > 0, plus ``align`` times that of the support predicted back from the query
    with the query's own predicted mask (PANet's prototype alignment: what the network finds in
    the query must describe the support too)."""
    logits = net(query, supports[:, 0], masks[:, 0])
    valid = target != IGNORE
    loss = F.binary_cross_entropy_with_logits(logits.float()[valid], target[valid].float())
    if align > 0:
        back = net(supports[:, 0], query, (logits.detach() > 0).to(masks.dtype))
        loss = loss + align * F.binary_cross_entropy_with_logits(back.float(), masks[:, 0].float())
    return loss


@torch.no_grad()
def shot_logits(model, supports: torch.Tensor, masks: torch.Tensor, query: torch.Tensor, amp: bool = False,
                colour_gains=None):
    """One one-shot logit map per support by the model's decision rule (if it has one): less its
    threshold, and with ``rows`` held below 0 outside the support's rows: (k, N, H, W) from
    supports (N, k, 3, H, W), masks (N, k, H, W) and queries (N, 3, H, W). With ``colour_gains``
    (a network with cues unless every gain is 1), (G, k, N, H, W): the maps with the colour cue's
    weight multiplied by each of the G gains, from one pass of the network per support
    (``EpisodicNet.colour_cue``)."""
    threshold, rows = float(getattr(model, "threshold", 0.0)), bool(getattr(model, "rows", False))

    def decided(logits: torch.Tensor, s: int) -> torch.Tensor:
        logits = logits - threshold
        return within_support_rows(logits, masks[:, s]) if rows else logits
    shots = range(supports.shape[1])
    with autocast(query.device, amp):
        raw = [model(query, supports[:, s], masks[:, s]).float() for s in shots]
    if colour_gains is None:
        return torch.stack([decided(raw[s], s) for s in shots])
    cues = [model.colour_cue(query, supports[:, s], masks[:, s]) for s in shots] if max(colour_gains) != 1 else []
    return torch.stack([torch.stack([decided(raw[s] if gain == 1 else raw[s] + (gain - 1) * cues[s], s) for s in shots])
                        for gain in colour_gains])


def variants(shots) -> list:
    """(name, k, aggregation) of each prediction scored: "1-shot", and for k > 1 "<k>-shot-or"
    and "<k>-shot-mean"."""
    return [(f"{k}-shot" if k == 1 else f"{k}-shot-{how}", k, how)
            for k in shots for how in (AGGREGATIONS[:1] if k == 1 else AGGREGATIONS)]


def evaluate(model, episodes, classes, ctx: distributed.Context, shots=(1,), batch_size: int = 8,
             amp: bool = False, progress: bool = False) -> dict:
    """{name: EpisodeScores} for each of ``variants(shots)``: every episode's query predicted
    from its first k supports (the episodes need max(shots)), scored on ``classes``."""
    return evaluate_many({"": model}, episodes, classes, ctx, shots, batch_size, amp, progress)[""]


def evaluate_many(models: dict, episodes, classes, ctx: distributed.Context, shots=(1,), batch_size: int = 8,
                  amp: bool = False, progress: bool = False, support_check=(), colour_gains=(1.0,)) -> dict:
    """``evaluate`` of each of ``models`` ({name: model}) in one pass over the episodes:
    {name: {variant: EpisodeScores}}, the 1-shot ones ranking its logits too; those named in
    ``support_check`` decide each episode by ``oneshot.support_check`` (the network, with its
    colour cue at each of ``colour_gains``, or colour in the support's rows; no ranking, the
    choice is not a logit; each class's episodes counted by the candidate chosen)."""
    modes = {name: model.training for name, model in models.items()}
    for model in models.values():
        model.eval()
    chosen = variants(shots)
    names = candidates(colour_gains)
    totals = {key: {name: EpisodeScores(classes, ranking=k == 1 and key not in support_check,
                                        choices=names if key in support_check else ()) for name, k, _ in chosen}
              for key in models}
    part = Subset(episodes, distributed.shard(range(len(episodes)), ctx))
    for supports, masks, query, target, cls in tqdm(DataLoader(part, batch_size=batch_size), desc="episodes",
                                                     leave=False, disable=not (progress and ctx.main)):
        supports, masks, query = supports.to(ctx.device), masks.to(ctx.device), query.to(ctx.device)
        for key, model in models.items():
            check = key in support_check and SupportCheck(
                lambda *batch, **options: shot_logits(*batch, amp=amp, **options), model, supports, masks, query,
                colour_gains)
            logits = check.network[0] if check else shot_logits(model, supports, masks, query, amp)
            for name, k, how in chosen:
                prediction = (check.prediction(k, how) if check else aggregate(logits[:k], how)).cpu()
                total, first = totals[key][name], logits[0].cpu()
                choice = check.choice(k).cpu() if check else None
                for c in cls.unique().tolist():
                    this = cls == c
                    total.add(c, prediction[this], target[this])
                    if total.ranks is not None:
                        total.rank(c, first[this], target[this])
                    if check:
                        total.choose(c, choice[this])
    for key, model in models.items():
        model.train(modes[key])
        for total in totals[key].values():
            total.sum_over_processes(ctx)
    return totals
