"""What every command line shares, so that they all behave alike: help that lists the
defaults, one spelling per flag (``--size HxW``, ``--num``, ``--device``, ``--seed``, ``--out``,
``--progress/--no-progress``, ``--debug``), and a user's error as one line
(``panosis-train: error: ...``, exit 2) where a bug keeps its traceback."""
import argparse

from panosis_models.config import default_device, parse_size
from panosis_models.errors import InputError

# what a user can mend: bad input named by the library, and files that cannot be read or written
USER_ERRORS = (InputError, OSError)


class Parser(argparse.ArgumentParser):
    """argparse's parser whose errors are one line (no usage block above them)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def make_parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """A parser named after the console script, described by the first paragraph of ``doc``."""
    parser = Parser(prog=prog, description=doc.split("\n\n")[0],
                    formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return parser


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default=default_device(), help="cpu, cuda or cuda:N")


def add_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="progress bars")


def add_training(parser: argparse.ArgumentParser, defaults) -> None:
    """The flags of how a network trains, shared by every training command, with the defaults of
    its config ``defaults``: --epochs, --batch-size, --lr, --clip, --seed, --amp, --workers."""
    d, p = defaults, parser
    p.add_argument("--epochs", type=count(1), default=d.epochs, help="epochs in all")
    p.add_argument("--batch-size", type=count(1), default=d.batch_size, help="items (episodes) per step")
    p.add_argument("--lr", type=float, default=d.lr, help="Adam's learning rate")
    p.add_argument("--clip", type=float, default=d.clip, help="gradient norm clipping")
    p.add_argument("--seed", type=int, default=d.seed, help="initialisation, data order and augmentation")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=d.amp, help="bfloat16 autocast on GPU")
    p.add_argument("--workers", type=count(0), default=d.workers, help="data loader processes")


def add_run(parser: argparse.ArgumentParser) -> None:
    """Where a training command runs and how it reports: --device, --cache-dir, --resume, --progress."""
    add_device(parser)
    parser.add_argument("--cache-dir", default=None, help="synthetic data cache (default ~/.cache/equiconv/synthetic)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt if it exists")
    add_progress(parser)


def size(text: str) -> tuple:
    """``--size HxW``."""
    try:
        return parse_size(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def size_text(size) -> str:
    """(H, W) as ``--size`` takes it, for defaults in the help."""
    return "x".join(map(str, size))


def count(minimum: int):
    """An integer flag of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value
    return parse


def between(low: float, high: float):
    """A number strictly between ``low`` and ``high``: NaN and infinities, which ``float`` takes,
    are refused too."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not low < value < high:
            raise argparse.ArgumentTypeError(f"expected a number strictly between {low:g} and {high:g}, got {text!r}")
        return value
    return parse


def seeds(text: str) -> tuple:
    """``--seeds 0,1,2``: distinct integers, at least one."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"seeds must be distinct integers such as 0,1,2, got {text!r}")
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


def run(parser: argparse.ArgumentParser, job, argv=None) -> None:
    """Parses ``argv`` and runs ``job(args)``; a user error ends the program with one line and
    exit status 2 (with ``--debug``, its traceback). Nothing is returned: a console script
    exits with what ``main`` returns, and anything but None would be an error status."""
    args = parser.parse_args(argv)
    try:
        job(args)
    except USER_ERRORS as error:
        if args.debug:
            raise
        parser.exit(2, f"{parser.prog}: error: {error}\n")


def print_results(summary: dict, out) -> None:
    """An experiment's table, then where its files went and how long it took."""
    print(summary["table"])
    print(f"written: {out} ({summary['minutes']} min)")


def config_fields(args, exclude=("debug",)) -> dict:
    """The parsed arguments that a job's config takes (all but the command line's own)."""
    return {k: v for k, v in vars(args).items() if k not in exclude}
