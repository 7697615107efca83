"""Write a folder in the Kaggle "cityscapes-image-pairs" layout from the synthetic streets:
``panosis-cityscapes-pairs --out DIR --train N --val M``.

Each ``DIR/{train,val}/K.jpg`` is 256x512: a rendered perspective view on the left, its fine label in
Cityscapes colours on the right, both JPEG-compressed, exactly the layout of the real download (whose
folder the data set CityscapesPairs reads the same way). A non-empty ``--out`` is refused unless
``--overwrite``, which replaces it whole: the new folder is written beside it and swapped in when
complete, so no old pair is left among the new ones and a failed run changes nothing.
"""

from panosis_models import command
from panosis_models.atomic import folder_written_whole
from panosis_models.data.cityscapes_pairs import write_pairs_root


def parser():
    p = command.make_parser("panosis-cityscapes-pairs", __doc__)
    p.add_argument("--out", required=True, help="the root folder (train/ and val/ are made in it)")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out whole")
    p.add_argument("--train", type=command.count(1), default=100, help="pairs in train/ (default 100)")
    p.add_argument("--val", type=command.count(1), default=20, help="pairs in val/ (default 20)")
    p.add_argument("--fov", type=command.between(0, 180), default=90.0,
                   help="horizontal field of view of the views, degrees (default 90)")
    p.add_argument("--seed", type=command.seed, default=0, help="worlds of train/; val/ uses the next seed")
    command.add_cache_dir(p, "where rendered views are cached")
    command.add_progress(p)
    return p


def job(args) -> None:
    with folder_written_whole(args.out, args.overwrite) as folder:
        write_pairs_root(folder, args.train, args.val, seed=args.seed, cache_dir=args.cache_dir,
                         progress=args.progress, fov_deg=args.fov)
    print(f"wrote {args.train} train and {args.val} val pairs to {args.out}")


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
