"""The README's usage names resolve as written."""
import equiconv


def test_every_equiconv_name_in_the_readme_exists():
    """The README's usage names (equiconv.convert.KINDS among them) resolve as written."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
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
