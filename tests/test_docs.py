"""The project's own documents: every kernel-facts section the models, the property files,
the README and the code cite exists in docs/kernel-facts.md, and every document linked from
the README is in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FACTS = ROOT / "docs" / "kernel-facts.md"
CITED_IN = ["models", "models-large", "properties", "benchmarks/models", "docs", "src"]
SECTION = re.compile(r"§(\d+(?:\.\d+)?)")
HEADING = re.compile(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", re.M)


def _sections() -> set[str]:
    return set(HEADING.findall(FACTS.read_text(encoding="utf-8")))


def _citing_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in CITED_IN:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".yaml", ".md", ".py") and path != FACTS:
                files.append(path)
    return files


def test_the_facts_document_has_its_sections_in_order() -> None:
    numbers = HEADING.findall(FACTS.read_text(encoding="utf-8"))
    assert numbers, "no numbered headings"
    keys = [tuple(int(x) for x in n.split(".")) for n in numbers]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("path", _citing_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_cited_section_exists(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    cited = set(SECTION.findall(text))
    missing = sorted(cited - _sections())
    assert not missing, f"{path.relative_to(ROOT)} cites {missing}, not in docs/kernel-facts.md"


def test_no_document_points_outside_the_repository() -> None:
    """shared/ is not shipped: nothing may send a reader there."""
    for path in _citing_files():
        assert "shared/reference" not in path.read_text(encoding="utf-8"), path


def test_documents_linked_from_the_readme_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(((?:docs|examples|benchmarks)/[^)#]+)\)", readme):
        assert (ROOT / target).exists(), target
