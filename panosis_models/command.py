"""What every command line shares, so that they all behave alike: help that lists the
defaults, one spelling per flag (``--size HxW``, ``--num``, ``--device``, ``--seed``, ``--out``,
``--progress/--no-progress``, ``--debug``), and a user's error as one line
(``panosis-train: error: ...``, exit 2) where a bug keeps its traceback."""
import argparse
import math
import os
import re
import shlex
import signal
import sys
import threading
from pathlib import Path

from panosis_models.engine.config import check_device, default_device, parse_size
from panosis_models.errors import InputError

# what a user can mend: bad input named by the library, and files that cannot be read or written
USER_ERRORS = (InputError, OSError)
# torch's CPU allocator says so in a plain RuntimeError; CUDA's raises torch.OutOfMemoryError
OUT_OF_MEMORY = re.compile(r"can't allocate memory|not enough memory|out of memory", re.IGNORECASE)


class Parser(argparse.ArgumentParser):
    """argparse's parser whose errors are one line (no usage block above them)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help that lists each flag's default, unless its help already says what the default is
    (which argparse's formatter would repeat: "(default 100) (default: 100)")."""

    def _get_help_string(self, action):
        if "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def make_parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """A parser named after the console script, described by the first paragraph of ``doc``."""
    parser = Parser(prog=prog, description=doc.split("\n\n")[0], formatter_class=HelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return parser


def device(text: str) -> str:
    """``--device``, refused at once when this machine has no such device (``config.check_device``)."""
    try:
        return check_device(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", type=device, default=default_device(), help="cpu, cuda or cuda:N")


def add_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="progress bars")


def add_training(parser: argparse.ArgumentParser, defaults) -> None:
    """The flags of how a network trains, shared by every training command, with the defaults of
    its config ``defaults``: --epochs, --batch-size, --lr, --clip, --seed, --amp, --workers."""
    d, p = defaults, parser
    p.add_argument("--epochs", type=count(1), default=d.epochs, help="epochs in all")
    p.add_argument("--batch-size", type=count(1), default=d.batch_size, help="items (episodes) per step")
    p.add_argument("--lr", type=number(above=0), default=d.lr, help="Adam's learning rate")
    p.add_argument("--clip", type=number(above=0), default=d.clip, help="gradient norm clipping")
    p.add_argument("--seed", type=seed, default=d.seed, help="initialisation, data order and augmentation")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=d.amp, help="bfloat16 autocast on GPU")
    p.add_argument("--workers", type=count(0, maximum=os.cpu_count() or 1), default=d.workers,
                   help="data loader processes (at most one per CPU)")


def add_run(parser: argparse.ArgumentParser) -> None:
    """Where a training command runs and how it reports: --device, --cache-dir, --resume, --progress."""
    add_device(parser)
    add_cache_dir(parser)
    add_resume(parser)
    add_progress(parser)


def add_resume(parser: argparse.ArgumentParser, what: str = "continue from OUT/last.pt if it exists") -> None:
    """--resume (``what`` it continues) and --overwrite: without one of them a run refuses an
    --out that holds files (``engine.outputs.run_folder``)."""
    parser.add_argument("--resume", action="store_true", help=what)
    parser.add_argument("--overwrite", action="store_true", help="replace what --out holds (its files are deleted)")


def add_cache_dir(parser: argparse.ArgumentParser, what: str = "synthetic data cache") -> None:
    parser.add_argument("--cache-dir", type=folder, default=None,
                        help=f"{what} (default ~/.cache/equiconv/synthetic)")


def folder(text: str) -> str:
    """A folder flag: an empty one would be the working folder, filled without being asked."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder, got ''")
    return text


def folder_path(text: str) -> Path:
    """``folder`` as a path (for output folders the command names by path)."""
    return Path(folder(text))


def size(text: str) -> tuple:
    """``--size HxW``."""
    try:
        return parse_size(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def size_text(size) -> str:
    """(H, W) as ``--size`` takes it, for defaults in the help."""
    return "x".join(map(str, size))


def count(minimum: int, maximum: int = sys.maxsize):
    """An integer flag from ``minimum`` to ``maximum`` (by default the largest count Python's
    sequences and data loaders take: 2**70 items would fail deep inside them)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or value > maximum:
            wanted = f">= {minimum}" if maximum == sys.maxsize else f"from {minimum} to {maximum}"
            raise argparse.ArgumentTypeError(f"expected an integer {wanted}, got {text!r}")
        return value
    return parse


# seeds are combined (seed * 100003 + epoch, seed + 1, ...) before torch and numpy take them: a
# 32-bit seed leaves room for that below torch's 64-bit limit
SEED_LIMIT = 2 ** 32 - 1
seed = count(0, SEED_LIMIT)  # a seed flag


def number(above: float = None, at_least: float = None, below: float = None, at_most: float = None):
    """A finite number within the bounds given: NaN and infinities, which ``float`` takes, are
    refused, so that no run trains on them."""
    bounds = [(sign, bound) for sign, bound in ((">", above), (">=", at_least), ("<", below), ("<=", at_most))
              if bound is not None]
    holds = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__}

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not all(holds[sign](value, float(bound)) for sign, bound in bounds):
            wanted = " and ".join(f"{sign} {bound:g}" for sign, bound in bounds)
            raise argparse.ArgumentTypeError(f"expected a finite number{' ' + wanted if wanted else ''}, got {text!r}")
        return value
    return parse


def between(low: float, high: float):
    """A finite number strictly between ``low`` and ``high``."""
    return number(above=low, below=high)


def seeds(text: str) -> tuple:
    """``--seeds 0,1,2``: distinct integers, at least one."""
    try:
        values = tuple(seed(v) for v in text.split(","))
    except argparse.ArgumentTypeError:
        values = ()
    if not values or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"seeds must be distinct integers from 0 to {SEED_LIMIT} such as 0,1,2, "
                                         f"got {text!r}")
    return values


def names(choices):
    """A comma list of distinct names from ``choices``, at least one: ``--model unet,pspnet``."""
    def parse(text: str) -> tuple:
        values = tuple(v.strip() for v in text.split(","))
        if not all(v in choices for v in values) or len(set(values)) != len(values):
            raise argparse.ArgumentTypeError(f"expected distinct names from {', '.join(choices)} separated by "
                                             f"commas, got {text!r}")
        return values
    return parse


def channels(text: str) -> tuple:
    """``--channels 32,64,128``: positive widths, at least two."""
    try:
        widths = tuple(int(v) for v in text.split(","))
    except ValueError:
        widths = ()
    if len(widths) < 2 or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"channels must be two or more positive widths such as 32,64,128, "
                                         f"got {text!r}")
    return widths


def run(parser: argparse.ArgumentParser, job, argv=None, resumable=lambda args: hasattr(args, "resume")) -> None:
    """Parses ``argv`` and runs ``job(args)``; a user error, or memory running out, ends the
    program with one line and exit status 2, Ctrl-C with one line saying how to continue
    (``resumable(args)``: the command line has a --resume that applies) and status 130; with
    ``--debug``, their tracebacks. Nothing is returned: a console script exits with what
    ``main`` returns, and anything but None would be an error status."""
    args = parser.parse_args(argv)
    ctrl_c = Interrupts()
    try:
        try:
            with ctrl_c:
                job(args)
        except Exception as error:
            if ctrl_c.seen and not args.debug:  # a library turned the interrupt into its own error
                raise KeyboardInterrupt from error
            raise
    except KeyboardInterrupt:
        if args.debug:
            raise
        hint = f"; continue it with: {resume_command(parser.prog, argv)}" if resumable(args) else ""
        parser.exit(130, f"{parser.prog}: interrupted{hint}\n")
    except USER_ERRORS as error:
        if args.debug:
            raise
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    except (MemoryError, RuntimeError) as error:
        if args.debug or not (isinstance(error, MemoryError) or OUT_OF_MEMORY.search(str(error))):
            raise
        asked = re.search(r"allocate (\d+) bytes", str(error))
        asked = f" ({int(asked.group(1)) / 2 ** 30:.3g} GiB asked for)" if asked else ""
        parser.exit(2, f"{parser.prog}: error: not enough memory{asked}: lower --size, --num or --batch-size\n")


class Interrupts:
    """Ctrl-C while a job runs, made to end it however Python meets it.

    - ``seen``: SIGINT came (a library may turn the interrupt raised inside its code into an
      error of its own: matplotlib's renderer gave 'ValueError: Invalid bounding box').
    - One that lands in a finaliser or a weakref callback, which Python prints as ignored, with
      its traceback, and goes on from, is raised again a millisecond later (SIGALRM)."""

    def __init__(self):
        self.seen = False
        self.active = threading.current_thread() is threading.main_thread()

    def __enter__(self):
        if self.active:
            self.previous = (sys.unraisablehook, signal.signal(signal.SIGINT, self.interrupt),
                             signal.signal(signal.SIGALRM, self.interrupt))
            sys.unraisablehook = self.unraisable
        return self

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.unraisablehook = self.previous[0]
            signal.signal(signal.SIGINT, self.previous[1])
            signal.signal(signal.SIGALRM, self.previous[2])

    def interrupt(self, signum, frame):
        self.seen = True
        raise KeyboardInterrupt

    def unraisable(self, unraisable):
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            signal.setitimer(signal.ITIMER_REAL, 0.001)
        else:
            self.previous[0](unraisable)


def resume_command(prog: str, argv=None) -> str:
    """The command line that continues the interrupted one: the same flags with --resume (and
    without --overwrite, which would start it again), quoted for a shell."""
    words = [str(w) for w in (sys.argv[1:] if argv is None else argv) if w != "--overwrite"]
    return shlex.join([prog, *words, *([] if "--resume" in words else ["--resume"])])


def print_results(summary: dict, out) -> None:
    """An experiment's table, then where its files went and how long it took."""
    print(summary["table"])
    print(f"written: {out} ({summary['minutes']} min)")


def config_fields(args, exclude=("debug",)) -> dict:
    """The parsed arguments that a job's config takes (all but the command line's own)."""
    return {k: v for k, v in vars(args).items() if k not in exclude}
