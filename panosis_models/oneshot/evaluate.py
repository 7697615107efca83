"""Evaluation of a one-shot run on its fold's novel classes: test episodes drawn with a fixed seed
from panoramas of held-out worlds, scored 1-shot and k-shot (OR-ed masks and averaged logits),
per pixel and area-weighted, beside the trivial baselines (``oneshot.baselines``) on the same
episodes, as metrics.json."""
import json

import torch

from panosis_models.data.datasets import derive_seed, held_out_panoramas, validation_panoramas
from panosis_models.data.episodes import Episodes, base_classes, novel_classes
from panosis_models.engine import checkpoint, distributed
from panosis_models.atomic import writable_folder
from panosis_models.errors import InputError
from panosis_models.oneshot.config import OneShotConfig, build_model
from panosis_models.oneshot.baselines import trivial
from panosis_models.oneshot.loop import evaluate_many
from panosis_models.oneshot.support_check import check_gains


def load_model(path, device="cpu") -> tuple:
    """(model in eval mode, its training config) from a one-shot checkpoint."""
    state = checkpoint.load(path, "oslsm", map_location=device)
    cfg = OneShotConfig.from_dict(state["config"])
    model = build_model(cfg)
    model.load_state_dict(state["model"])
    return model.to(device).eval(), cfg


def test_episodes(cfg: OneShotConfig, panoramas: int, episodes: int, shots: int = 1, seed: int = 0,
                  cache_dir=None, base: bool = False, validation: bool = False) -> Episodes:
    """``episodes`` episodes of the fold's novel classes (with ``base``, of its base classes: what
    training reached) over ``panoramas`` held-out panoramas, each with ``shots`` supports, drawn
    from ``seed``; with ``validation``, over the run's validation worlds instead (for choosing
    settings without a test panorama). Too few panoramas are refused before any is rendered
    when they cannot suffice."""
    if panoramas <= shots:
        raise InputError(f"--panoramas {panoramas} is too few for {shots}-shot episodes (each takes {shots} "
                         f"supports and a query apart from them): raise --panoramas above {shots}")
    if validation:
        data = validation_panoramas(panoramas, cfg.size, cfg.data_seed, cache_dir, labels="fine")
    else:
        data = held_out_panoramas(panoramas, cfg.size, seed, cache_dir, labels="fine")
    classes = base_classes(cfg.fold) if base else novel_classes(cfg.fold)
    return Episodes(data, classes, episodes, derive_seed("test episodes", seed), shots=shots,
                    more="raise --panoramas")


def evaluate(model, episodes: Episodes, out=None, shots=(1, 5), batch_size: int = 8, device="cpu",
             progress: bool = True, baselines: bool = True, support_check: bool = False, colour_gains=(1.0,)) -> dict:
    """Scores of ``model`` on ``episodes`` ({variant: {"pixel", "area"}}, see
    ``oneshot.metrics.EpisodeScores.report``) with the episode count and, with ``baselines``,
    each trivial baseline's scores on the same episodes ({name: {variant: ...}}) and the best
    of them per variant; written to ``out/metrics.json`` if ``out`` is given (checked first).
    With ``support_check`` the model decides each episode by ``oneshot.support_check``, with its
    colour cue at each of ``colour_gains`` among the candidates."""
    if out is not None:
        out = writable_folder(out)
    ctx = distributed.Context(device=torch.device(device))

    others = trivial() if baselines else {}
    totals = evaluate_many({"": model, **others}, episodes, episodes.classes, ctx, shots, batch_size, progress=progress,
                           support_check=("",) if support_check else (), colour_gains=colour_gains)
    reports = {key: {name: total.report() for name, total in variants.items()} for key, variants in totals.items()}
    result = {"episodes": len(episodes), "classes": list(episodes.classes), "panoramas": len(episodes.dataset),
              "threshold": float(getattr(model, "threshold", 0.0)), "rows": bool(getattr(model, "rows", False)),
              "support_check": support_check, "colour_gains": list(check_gains(colour_gains)),
              "scores": reports.pop("")}
    if baselines:
        result["baselines"] = reports
        result["best_baseline"] = best_baseline(reports)
    if out is not None:
        (out / "metrics.json").write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
    return result


def best_baseline(baselines: dict) -> dict:
    """{variant: {"name", "miou"}}: the trivial baseline with the best per-pixel mean IoU."""
    best = {}
    for name, variants in baselines.items():
        for variant, s in variants.items():
            miou = s["pixel"]["miou"]
            if miou is not None and miou > best.get(variant, {"miou": -1.0})["miou"]:
                best[variant] = {"name": name, "miou": miou}
    return best


def summary_lines(result: dict) -> list:
    """One line per variant (then per trivial baseline and variant): mean novel-class IoU and
    FB-IoU, per pixel and area-weighted, the mean AUC where the logits were ranked, and the
    share of episodes each candidate of the support check was chosen for where it decided."""
    lines = variant_lines(result["scores"])
    for name, variants in result.get("baselines", {}).items():
        lines += [f"[{name}] {line}" for line in variant_lines(variants)]
    return lines


def variant_lines(scores: dict) -> list:
    def number(value):
        return "n/a" if value is None else f"{value:.4f}"
    return [f"{name}: mean IoU {number(s['pixel']['miou'])} FB-IoU {number(s['pixel']['fb_iou'])}  area-weighted "
            f"mean IoU {number(s['area']['miou'])} FB-IoU {number(s['area']['fb_iou'])}"
            + (f"  mean AUC {number(s['ranking']['mean_auc'])}" if "ranking" in s else "")
            + ("  chosen: " + ", ".join(f"{choice} {100 * c['share']:.0f} %" for choice, c in s["choices"].items()
                                         if c["share"] is not None) if "choices" in s else "")
            for name, s in scores.items()]
