"""Docs that point somewhere point at something that exists: README sections named in code and configs,
and the run-directory files of srnn_bench.utils.layout in README's table."""

import re

import pytest
from conftest import ROOT

from srnn_bench.utils import layout

README = (ROOT / "README.md").read_text()
HEADINGS = [h.strip() for h in re.findall(r"^#{1,4} (.+)$", README, flags=re.MULTILINE)]
POINTER = re.compile(r'README[,:]? *"([^"]+)"|README, ([A-Z][A-Za-z ]+)\)')


def _pointers():
    for folder in ("srnn_bench", "configs", "scripts", "tests"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".py", ".yaml") or "__pycache__" in path.parts or path.name == "test_docs.py":
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                for m in POINTER.finditer(line):
                    yield f"{path.relative_to(ROOT)}:{n}", (m.group(1) or m.group(2)).strip()


POINTERS = list(_pointers())


def test_pointers_were_found():
    assert len(POINTERS) >= 10  # the pattern matches the way the code cites the README


@pytest.mark.parametrize("where, section", POINTERS, ids=[w for w, _ in POINTERS])
def test_readme_section_exists(where, section):
    assert any(h.startswith(section) for h in HEADINGS), (
        f"{where} points to README section {section!r}: no such heading"
    )


def test_readme_run_directory_table_lists_the_layout():
    table = README.split("| file | content |", 1)[1].split("\n\n", 1)[0]
    names = [layout.CONFIG, layout.ENV, layout.HISTORY, layout.METRICS, layout.ERROR, layout.HYDRA,
             f"{layout.CHECKPOINTS}/{layout.LAST}", layout.PREV, layout.BEST, layout.INIT]  # fmt: skip
    missing = [n for n in names if f"`{n}" not in table]
    assert not missing, f"README's run-directory table lacks {missing}"
