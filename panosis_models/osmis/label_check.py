"""Whether a generated set keeps the training mask's make-up. A short OSMIS run can end with
masks of only two labels while every stage still runs and the U-Nets still score something;
the pipeline reports this check so such a set is seen, not mistaken for a result."""
from panosis_models.data import CLASS_NAMES

TOP = 3            # the training mask's largest labels that are checked
TOLERANCE = 0.15   # how far (share of the pixels) a checked label may be off


def top_label_check(generated: dict, training: dict, top: int = TOP, tolerance: float = TOLERANCE) -> dict:
    """``generated`` and ``training``: {label: share of the pixels} (``generated.json``'s
    ``label_shares`` and ``training_label_shares``). Returns {"tolerance", "labels": one
    {"label", "name", "training", "generated", "off"} for each of the ``top`` labels largest in
    the training mask, largest first, "within": every ``off`` at most ``tolerance``}."""
    largest = sorted(training, key=lambda label: -training[label])[:top]
    labels = [{"label": int(label), "name": CLASS_NAMES[int(label)], "training": training[label],
               "generated": generated.get(label, 0.0),
               "off": round(abs(generated.get(label, 0.0) - training[label]), 4)} for label in largest]
    return {"tolerance": tolerance, "labels": labels, "within": all(x["off"] <= tolerance for x in labels)}


def describe(check: dict) -> str:
    """One line per checked label, and a warning line when any is off by more than the tolerance."""
    lines = [f"   {x['name']}: {x['generated']:.0%} of the generated masks, {x['training']:.0%} of the "
             f"training mask" for x in check["labels"]]
    if not check["within"]:
        off = ", ".join(x["name"] for x in check["labels"] if x["off"] > check["tolerance"])
        lines.append(f"   WARNING: {off} off by more than {check['tolerance'] * 100:.0f} points: the generated set "
                     "does not have the training mask's make-up (more OSMIS steps, or another seed)")
    return "\n".join(lines)
