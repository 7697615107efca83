"""python docs/screenshots.py BUILD: screenshots of the built site, as a reader's browser shows it.

Headless Chromium renders the index, one API page and one gallery page into
``BUILD/../screenshots/*.png`` (next to the build, never committed). Without Chromium it says so
and exits 0: the screenshots are for looking at, the build is what is checked.
"""
import shutil
import subprocess
import sys
from pathlib import Path

PAGES = {"index": "index.html", "api-equiconv2d": "api/equiconv.EquiConv2d.html",
         "gallery-footprint": "gallery/plot_sampling_footprint.html"}


def main(build: Path) -> int:
    browser = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if browser is None:
        print("screenshots: no Chromium found (apt-get install chromium); none taken")
        return 0
    out = build.parent / "screenshots"
    out.mkdir(exist_ok=True)
    for name, page in PAGES.items():
        source = build / page
        if not source.is_file():
            print(f"screenshots: {source} is not in the build", file=sys.stderr)
            return 1
        png = out / f"{name}.png"
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1280,1400", f"--screenshot={png}", source.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
        print(png)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.splitlines()[0])
    sys.exit(main(Path(sys.argv[1])))
