"""The equiconv names the README and the documentation pages use resolve as written."""
import equiconv


def test_every_equiconv_name_in_the_readme_and_the_docs_exists():
    """The README's and the docs pages' names (equiconv.convert.KINDS among them) resolve as written."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pages = [root / "README.md", *(root / "docs").glob("*.md")]
    text = "\n".join(page.read_text() for page in pages)
    names = sorted(set(re.findall(r"(?<![\w/])equiconv(?:\.\w+)+", text)))
    assert "equiconv.convert.KINDS" in names
    missing = []
    for name in names:
        obj = equiconv
        for part in name.split(".")[1:]:
            obj = getattr(obj, part, missing)
        if obj is missing:
            missing.append(name)
    assert not missing
    assert equiconv.convert.KINDS == ("conv", "conv_transpose", "max_pool", "avg_pool", "adaptive_avg_pool",
                                      "upsample")
