"""The command lines (the ``panosis-*`` console scripts): each parses its arguments and calls
the library, never another command line. Importing this package first checks that the
'models' extra is installed, so that a command started without it says what to install."""
import importlib
import os
import sys

MODELS_EXTRA = ("matplotlib", "numpy", "PIL", "tqdm")  # import names of setup.py's "models" extra


def _missing() -> list:
    missing = []
    for name in MODELS_EXTRA:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


_MISSING = _missing()
if _MISSING:
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0].startswith("panosis-") else "panosis"
    sys.stderr.write(f"{program}: error: the reference models need the 'models' extra (missing: "
                     f"{', '.join(_MISSING)}); install it with: pip install 'equiconv[models]'\n")
    sys.exit(2)
