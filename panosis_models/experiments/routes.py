"""The one-pair routes over many pairs and seeds: the PanOSIS pipeline (``experiments.panosis``)
run once per (synthetic training pair, seed), every run tested on the same held-out panoramas,
level and tilted. Per route (a U-Net on the OSMIS set with the pair, on the pair alone, and the
predictors that learn nothing from it) and test set: mean IoU as mean +- standard deviation over
the runs; per run the paired difference of two routes, summarised the same way and read with
the two-standard-deviation rule: a mean difference within two standard deviations of the
per-run differences is noise. Each run keeps its own folder
(``pair<P>-seed<S>``); a resumed sweep reads the finished ones and runs the rest.
Writes results.json and table.md under ``out``."""
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from panosis_models.data import CLASS_NAMES
from panosis_models.engine.config import RunConfig
from panosis_models.engine.outputs import run_folder
from panosis_models.experiments import panosis
from panosis_models.experiments.pair_baselines import COLOUR_IN_ROWS, COPIED
from panosis_models.experiments.results import NOISE_STDS, TEST_SETS, mean_std, spread

METRICS = ("miou", "area_miou")
# (a, b) route pairs whose per-run difference b - a is reported; a route is (model, training data)
BASELINE_ROUTES = ((COPIED, panosis.PAIR), (COLOUR_IN_ROWS, panosis.PAIR))
UNET_ROUTES = (("unet", panosis.PAIR), ("unet", panosis.UNION))
DIFFERENCES = ((UNET_ROUTES[0], UNET_ROUTES[1]), (BASELINE_ROUTES[1], UNET_ROUTES[0]),
               (BASELINE_ROUTES[1], UNET_ROUTES[1]))


@dataclass
class RoutesConfig(RunConfig):
    """The sweep: pairs x seeds of one pipeline setting (``seeds`` seed the runs, not ``seed``);
    saved in results.json."""
    out: str = "runs/routes"
    pair_seeds: tuple = (0, 1, 2, 3, 4)   # synthetic training pairs (worlds)
    seeds: tuple = (0, 1)                 # training seeds per pair
    test_seed: int = 0                    # the held-out panoramas every run is tested on
    quick: bool = False
    iterations: int = None                # OSMIS steps; None: the setting's
    generated: int = None
    epochs: int = None
    tilt: float = 0.0                     # the U-Nets' training, as PipelineConfig takes it
    class_weight: str = None

    def pipeline(self, pair_seed: int, seed: int) -> panosis.PipelineConfig:
        return panosis.PipelineConfig(out=str(Path(self.out) / f"pair{pair_seed}-seed{seed}"), pair_seed=pair_seed,
                                      seed=seed, test_seed=self.test_seed, quick=self.quick,
                                      iterations=self.iterations, generated=self.generated, epochs=self.epochs,
                                      tilt=self.tilt, class_weight=self.class_weight, device=self.device,
                                      resume=self.resume, progress=self.progress)


def run(cfg: RoutesConfig) -> dict:
    """Every (pair, seed) run, then the summary written to results.json (its ``table`` too). Its
    folder, ``out``, is held while it runs (``engine.outputs.run_folder``)."""
    cfg.pipeline(cfg.pair_seeds[0], cfg.seeds[0]).settings()  # refuses bad overrides before any run
    with run_folder(cfg.out, cfg.resume, cfg.overwrite) as out:
        runs = []
        for pair_seed in cfg.pair_seeds:
            for seed in cfg.seeds:
                pcfg = cfg.pipeline(pair_seed, seed)
                done = Path(pcfg.out) / "results.json"
                print(f"pair {pair_seed}, seed {seed}" + (": done" if done.is_file() else ""))
                result = json.loads(done.read_text()) if done.is_file() else panosis.run(pcfg)
                runs.append((pair_seed, seed, result))
        summary = summarise(cfg, runs)
        text = table(summary)
        (out / "results.json").write_text(json.dumps(summary, indent=1, allow_nan=False) + "\n")
        (out / "table.md").write_text(text + "\n")
        return {**summary, "table": text}


def route_of(row: dict) -> tuple:
    return row["model"], row["train"]


def summarise(cfg: RoutesConfig, runs: list) -> dict:
    """The per-run rows (each with its pair), their spreads per (route, conv, test: metrics and
    per-class IoU) and the paired differences of ``DIFFERENCES``, from ``runs`` [(pair seed, seed,
    a pipeline run's summary)]."""
    first = runs[0][2]
    rows = [{**{k: v for k, v in row.items() if k != "checkpoint"}, "pair_seed": pair_seed}
            for pair_seed, _, result in runs for row in result["rows"]]
    groups = {}
    for row in rows:
        groups.setdefault((*route_of(row), row["conv"], row["test"]), []).append(row)
    summary_rows = [{"model": model, "train": train, "conv": conv, "test": test, "runs": len(group),
                     "metrics": {m: spread([r["metrics"][m] for r in group]) for m in METRICS},
                     "iou": {label: spread([r["iou"][label] for r in group]) for label in group[0]["iou"]}}
                    for (model, train, conv, test), group in groups.items()]
    return {"config": cfg.as_dict(), "class_names": list(CLASS_NAMES), "settings": first["settings"],
            "osmis_budget": first["osmis_budget"],
            "images_seen": first["images_seen"], "test": first["test"],
            "runs": [{"pair_seed": p, "seed": s, "pair": r["pair"], "seconds": r["seconds"]} for p, s, r in runs],
            "rows": rows, "summary": summary_rows, "differences": differences(rows, summary_rows)}


def paired_verdict(difference: dict) -> str:
    """The per-run differences' spread ({"mean", "std"}) read with the two-standard-deviation rule."""
    if difference["mean"] is None:
        return "n/a"
    if difference["std"] is None:
        return f"{difference['mean']:+.4f} (one run: spread unknown)"
    if abs(difference["mean"]) <= NOISE_STDS * difference["std"]:
        return f"{difference['mean']:+.4f} (noise)"
    return f"{difference['mean']:+.4f} ({'better' if difference['mean'] > 0 else 'worse'})"


def differences(rows: list, summary_rows: list) -> list:
    """Per conv of the U-Nets, test set and metric, each ``DIFFERENCES`` pair (b - a): the per-run
    differences' spread, its ``paired_verdict`` and in how many runs b was higher."""
    by_run = {(*route_of(r), r["conv"], r["test"], r["pair_seed"], r["seed"]): r for r in rows}
    spreads = {(r["model"], r["train"], r["conv"], r["test"]): r for r in summary_rows}
    convs = sorted({r["conv"] for r in rows if r["model"] == "unet"})
    runs = sorted({(r["pair_seed"], r["seed"]) for r in rows})
    found = []
    for conv in convs:
        for test in TEST_SETS:
            for a, b in DIFFERENCES:
                conv_a, conv_b = (conv if route[0] == "unet" else "-" for route in (a, b))
                if (*a, conv_a, test) not in spreads or (*b, conv_b, test) not in spreads:
                    continue
                for metric in METRICS:
                    values = [by_run[(*b, conv_b, test, *run)]["metrics"][metric] -
                              by_run[(*a, conv_a, test, *run)]["metrics"][metric] for run in runs]
                    found.append({"a": list(a), "b": list(b), "conv": conv, "test": test, "metric": metric,
                                  "difference": spread(values), "verdict": paired_verdict(spread(values)),
                                  "b_higher": sum(v > 0 for v in values)})
    return found


def name(route) -> str:
    model, train = route
    return f"U-Net on {train}" if model == "unet" else model


def table(summary: dict) -> str:
    """Routes x conv rows (level and tilted mean IoU, mean +- std over the runs), then the paired
    differences."""
    lines = ["| route | conv | runs | level mIoU | tilted mIoU | level area mIoU | tilted area mIoU |",
             "|---|---|---|---|---|---|---|"]
    by_key = {(r["model"], r["train"], r["conv"], r["test"]): r for r in summary["summary"]}
    for (model, train, conv, test), row in by_key.items():
        if test != TEST_SETS[0]:
            continue
        cells = [mean_std(by_key[(model, train, conv, t)]["metrics"][m], 3)
                 for m in METRICS for t in TEST_SETS if (model, train, conv, t) in by_key]
        lines.append(f"| {name((model, train))} | {conv} | {row['runs']} | " + " | ".join(cells) + " |")
    lines += ["", "| b - a | conv | test | metric | difference (per run) | b higher | two-std rule |",
              "|---|---|---|---|---|---|---|"]
    for d in summary["differences"]:
        lines.append(f"| {name(d['b'])} - {name(d['a'])} | {d['conv']} | {d['test']} | {d['metric']} | "
                     f"{mean_std(d['difference'], 3)} | {d['b_higher']}/{len(d['difference']['values'])} | "
                     f"{d['verdict']} |")
    return "\n".join(lines)


def minutes(summary: dict) -> float:
    """Minutes the runs took, all stages."""
    return round(statistics.fsum(sum(r["seconds"].values()) for r in summary["runs"]) / 60, 1)
