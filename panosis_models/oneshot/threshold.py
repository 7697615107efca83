"""The decision rule of a one-shot network, chosen on base-class validation episodes (worlds
apart from training and test; novel-class pixels ignored as in training) -- never on test
episodes: the logit above which a pixel is foreground, and whether foreground is kept to the
rows where the support shows the class (``episodic.within_support_rows``), the pair that gives
the best mean foreground IoU over the validation classes. It is set on the model
(``EpisodicNet.threshold`` and ``rows``), so the checkpoint carries it and evaluation uses it."""
import torch
from torch.utils.data import DataLoader

from panosis_models.data.datasets import derive_seed
from panosis_models.data.episodes import IGNORE, Episodes, base_classes, novel_classes
from panosis_models.engine import distributed
from panosis_models.models.episodic import support_rows
from panosis_models.oneshot.config import OneShotConfig, validation_panoramas

CANDIDATES = 41  # quantiles of the validation logits tried as thresholds


def validation_episodes(cfg: OneShotConfig) -> Episodes:
    """``cfg.val_episodes`` 1-shot episodes of the fold's base classes over ``cfg.validation``
    panoramas of validation worlds (novel-class pixels ignored when training ignores them)."""
    ignore = novel_classes(cfg.fold) if cfg.novel == "ignore" else ()
    return Episodes(validation_panoramas(cfg), base_classes(cfg.fold), cfg.val_episodes,
                    derive_seed(cfg.seed, "validation episodes"), more="raise --validation", ignore=ignore)


@torch.no_grad()
def class_logits(model, episodes, device, batch_size: int = 8) -> dict:
    """{class: (logits, targets, in the support's rows)} of the valid (non-IGNORE) query pixels
    of ``episodes``, 1-shot."""
    found = {}
    for supports, masks, query, target, cls in DataLoader(episodes, batch_size=batch_size):
        logits = model(query.to(device), supports[:, 0].to(device), masks[:, 0].to(device)).float().cpu()
        rows = support_rows(masks[:, 0]).expand_as(logits)
        for c in cls.unique().tolist():
            valid = (target != IGNORE) & (cls == c)[:, None, None]
            found.setdefault(c, []).append((logits[valid], target[valid] == 1, rows[valid]))
    return {c: tuple(torch.cat(column) for column in zip(*parts)) for c, parts in found.items()}


def best_rule(found: dict, rows=(False, True)) -> tuple:
    """(threshold, rows, mean IoU there) over ``found`` ({class: (logits, is foreground, in the
    support's rows)}): of each threshold candidate (0 and quantiles of all the logits) with
    foreground in every row and (if ``rows`` allows) only in the support's rows, the one with
    the best mean foreground IoU; ties go to every row, then to the threshold nearest 0."""
    every = torch.cat([logits for logits, *_ in found.values()])
    candidates = torch.cat([torch.zeros(1), torch.quantile(every[:1 << 24], torch.linspace(0, 1, CANDIDATES))])
    best = (-1.0, 0.0, False)
    for kept in rows:
        for t in sorted(candidates.tolist(), key=abs):
            ious = []
            for logits, truth, in_rows in found.values():
                said = (logits > t) & in_rows if kept else logits > t
                union = (said | truth).sum().item()
                ious.append((said & truth).sum().item() / union if union else 0.0)
            miou = sum(ious) / len(ious)
            if miou > best[0]:
                best = (miou, t, kept)
    return best[1], best[2], best[0]


def choose_threshold(model, episodes: Episodes, ctx: distributed.Context) -> float:
    """Sets ``model.threshold`` and ``model.rows`` from ``episodes`` (every process computes the
    same); returns the validation mean IoU with them."""
    was_training = model.training
    model.eval()
    threshold, rows, miou = best_rule(class_logits(model, episodes, ctx.device))
    model.threshold.fill_(threshold)
    model.rows.fill_(rows)
    model.train(was_training)
    return miou
