"""Where the ``panosis-*`` console scripts start (setup.py's entry points): one callable per
script, which checks that the 'models' extra is installed and only then imports its command
line and runs it. A command's module imports the extra at its top, so the check has to come
first for a user without the extra to get one line saying what to install instead of a
traceback; for the same reason this module imports the standard library alone.
``python -m panosis_models.cli.<name>`` skips the check and runs the module directly."""
import importlib
import importlib.util
import sys

MODELS_EXTRA = ("matplotlib", "numpy", "PIL", "tqdm")  # import names of setup.py's "models" extra


def missing_extra() -> list:
    """The modules of the 'models' extra that are not installed, in MODELS_EXTRA's order: found
    (not imported, which is quicker and does not blame matplotlib for a missing PIL it imports)."""
    return [name for name in MODELS_EXTRA if importlib.util.find_spec(name) is None]


def run(module: str):
    """``panosis_models.cli.<module>.main()`` (its result is the exit status), after checking the
    extra: without it, one line on stderr naming the script and what to install, and exit 2."""
    missing = missing_extra()
    if missing:
        sys.stderr.write(f"panosis-{module.replace('_', '-')}: error: the reference models need the 'models' "
                         f"extra (missing: {', '.join(missing)}); install it with: pip install 'equiconv[models]'\n")
        sys.exit(2)
    return importlib.import_module(f"panosis_models.cli.{module}").main()


def _script(module: str):
    def start():
        return run(module)

    start.__name__ = start.__qualname__ = module
    start.__doc__ = f"The console script panosis-{module.replace('_', '-')}."
    return start


train = _script("train")
evaluate = _script("evaluate")
experiment = _script("experiment")
osmis_train = _script("osmis_train")
osmis_generate = _script("osmis_generate")
pipeline = _script("pipeline")
showcase = _script("showcase")
convert_masks = _script("convert_masks")
render_preview = _script("render_preview")
cityscapes_pairs = _script("cityscapes_pairs")
panoptic = _script("panoptic")
oneshot_train = _script("oneshot_train")
oneshot_evaluate = _script("oneshot_evaluate")
oneshot_compare = _script("oneshot_compare")
