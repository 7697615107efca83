"""Evaluation of an OSLSM run on its fold's novel classes: test episodes drawn with a fixed seed
from panoramas of held-out worlds, scored 1-shot and k-shot (OR-ed masks and averaged logits),
per pixel and area-weighted, as metrics.json."""
import json

import torch

from panosis_models.data.datasets import derive_seed, held_out_panoramas
from panosis_models.data.episodes import Episodes, base_classes, novel_classes
from panosis_models.engine import checkpoint, distributed
from panosis_models.atomic import writable_folder
from panosis_models.errors import InputError
from panosis_models.oneshot.config import OneShotConfig, build_model
from panosis_models.oneshot.loop import evaluate as score_episodes


def load_model(path, device="cpu") -> tuple:
    """(model in eval mode, its training config) from an OSLSM checkpoint."""
    state = checkpoint.load(path, "oslsm", map_location=device)
    cfg = OneShotConfig.from_dict(state["config"])
    model = build_model(cfg)
    model.load_state_dict(state["model"])
    return model.to(device).eval(), cfg


def test_episodes(cfg: OneShotConfig, panoramas: int, episodes: int, shots: int = 1, seed: int = 0,
                  cache_dir=None, base: bool = False) -> Episodes:
    """``episodes`` episodes of the fold's novel classes (with ``base``, of its base classes: what
    training reached) over ``panoramas`` held-out panoramas, each with ``shots`` supports, drawn
    from ``seed``. Too few panoramas are refused before any is rendered when they cannot suffice."""
    if panoramas <= shots:
        raise InputError(f"--panoramas {panoramas} is too few for {shots}-shot episodes (each takes {shots} "
                         f"supports and a query apart from them): raise --panoramas above {shots}")
    data = held_out_panoramas(panoramas, cfg.size, seed, cache_dir, labels="fine")
    classes = base_classes(cfg.fold) if base else novel_classes(cfg.fold)
    return Episodes(data, classes, episodes, derive_seed("test episodes", seed), shots=shots,
                    more="raise --panoramas")


def evaluate(model, episodes: Episodes, out=None, shots=(1, 5), batch_size: int = 8, device="cpu",
             progress: bool = True) -> dict:
    """Scores of ``model`` on ``episodes`` ({variant: {"pixel", "area"}}, see
    ``oneshot.metrics.EpisodeScores.report``) with the episode count; written to
    ``out/metrics.json`` if ``out`` is given (checked first)."""
    if out is not None:
        out = writable_folder(out)
    ctx = distributed.Context(device=torch.device(device))
    totals = score_episodes(model, episodes, episodes.classes, ctx, shots, batch_size, progress=progress)
    result = {"episodes": len(episodes), "classes": list(episodes.classes), "panoramas": len(episodes.dataset),
              "scores": {name: total.report() for name, total in totals.items()}}
    if out is not None:
        (out / "metrics.json").write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
    return result


def summary_lines(result: dict) -> list:
    """One line per variant: mean novel-class IoU and FB-IoU, per pixel and area-weighted."""
    def number(value):
        return "n/a" if value is None else f"{value:.4f}"
    return [f"{name}: mean IoU {number(s['pixel']['miou'])} FB-IoU {number(s['pixel']['fb_iou'])}  area-weighted "
            f"mean IoU {number(s['area']['miou'])} FB-IoU {number(s['area']['fb_iou'])}"
            for name, s in result["scores"].items()]
