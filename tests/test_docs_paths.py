"""Review of issue 11, finding 10d: the docs named machine paths outside the repository
(docs/benchmarks.md pointed at ``../shared/peerbench``). A reader of a clean checkout has
none of them: every relative path in the docs must stay inside the repository, and no
absolute path of a machine may appear.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
RELATIVE = re.compile(r"(?:\.\./)+[\w./-]*")
MACHINE = re.compile(r"(?<![\w.:/])/(?:work|home|tmp|Users|mnt|srv)/[\w./-]+")


def _inside(doc: Path, found: str) -> bool:
    # A link is relative to its document, a command's path to the checkout: fine if
    # either names something that exists inside the repository.
    for base in (doc.parent, ROOT):
        target = (base / found).resolve()
        if target.is_relative_to(ROOT) and target.exists():
            return True
    return False


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_the_docs_name_no_path_outside_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    outside = [found for found in RELATIVE.findall(text) if not _inside(doc, found)]
    assert not outside, f"{doc.name} points outside the repository: {outside}"
    assert not MACHINE.findall(text), f"{doc.name} names machine paths"
