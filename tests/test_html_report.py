"""`verify --html FILE`: one self-contained page; its figures, links and anchors checked
against the run's JSON document, parsed with the standard library's HTML parser."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import counter_model, write_model
from preemptcheck.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
FOLD = "models/races/fold-remote-rmw.yaml"
LATENCY = "models/latency.yaml"
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source", "area", "base"}


@dataclass
class El:
    tag: str
    attrs: dict[str, str]
    parent: El | None = None
    children: list[El | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> list[El]:
        out = [self]
        for c in self.children:
            if isinstance(c, El):
                out += c.iter()
        return out

    def find(self, tag: str, **attrs: str) -> list[El]:
        """Descendants with this tag (or any, "*") and these attributes (`class_`: a class)."""
        want = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            e
            for e in self.iter()[1:]
            if tag in ("*", e.tag)
            and all(
                v in e.classes if k == "class" else e.attrs.get(k) == v for k, v in want.items()
            )
        ]

    def one(self, tag: str, **attrs: str) -> El:
        found = self.find(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = El("#document", {})
        self.cur = self.root
        self.decl = ""

    def handle_decl(self, decl: str) -> None:
        self.decl = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = El(tag, {k: v or "" for k, v in attrs}, self.cur)
        self.cur.children.append(el)
        if tag not in VOID:
            self.cur = el

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.cur.children.append(El(tag, {k: v or "" for k, v in attrs}, self.cur))

    def handle_endtag(self, tag: str) -> None:
        assert self.cur.tag == tag, f"</{tag}> closes <{self.cur.tag}>"
        assert self.cur.parent is not None
        self.cur = self.cur.parent

    def handle_data(self, data: str) -> None:
        self.cur.children.append(data)


def parse(page: str) -> El:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    assert tree.cur is tree.root, "every element is closed"
    assert tree.decl.lower() == "doctype html"
    return tree.root


def _verify(*args: str, cache: bool = False) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["verify", *([] if cache else ["--no-cache"]), *args])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout, result.stderr


@dataclass
class Report:
    page: str
    root: El
    doc: dict  # type: ignore[type-arg]
    code: int


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """fold-remote-rmw (a violation drawn at step 3) and latency.yaml (two runs, leads_to
    properties, properties from other files), checked once: the page and the JSON."""
    out = tmp_path_factory.mktemp("html") / "report.html"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        code, stdout, _ = _verify("--format", "json", "--html", str(out), FOLD, LATENCY)
    finally:
        os.chdir(cwd)
    page = out.read_text(encoding="utf-8")
    return Report(page, parse(page), json.loads(stdout), code)


def _sections(r: Report) -> dict[str, El]:
    return {s.attrs["id"]: s for s in r.root.find("section", class_="property")}


def test_the_page_is_one_html5_document(report: Report) -> None:
    assert report.root.one("html").attrs["lang"] == "en"
    assert report.root.find("meta", charset="utf-8")
    body = report.root.one("body")
    assert [c.tag for c in body.children if isinstance(c, El)] == ["main"]
    assert body.one("main").attrs["id"] == "report"
    assert report.code == 0


def test_summary_counts_are_the_json_documents(report: Report) -> None:
    summary = report.root.one("section", id="summary")
    counts = {
        (k, e.attrs[k]): int(e.text())
        for e in summary.find("span", class_="count")
        for k in ("data-verdict", "data-outcome")
        if k in e.attrs
    }
    props = [p for m in report.doc["models"] for p in m["properties"]]
    verdicts = Counter(p["verdict"] for p in props)
    for v in ("holds", "violated", "bounded", "unknown"):
        assert counts[("data-verdict", v)] == verdicts[v], v
    assert counts[("data-outcome", "unexpected")] == report.doc["summary"]["unexpected"]
    assert counts[("data-outcome", "inconclusive")] == report.doc["summary"]["inconclusive"]
    total = sum(n for (k, _), n in counts.items() if k == "data-verdict")
    assert total == len(props)
    assert f"{total} properties" in summary.text()  # the text report's summary line


def test_ids_are_unique(report: Report) -> None:
    ids = Counter(e.attrs["id"] for e in report.root.iter() if "id" in e.attrs)
    assert [i for i, n in ids.items() if n > 1] == []


def test_nothing_is_fetched(report: Report) -> None:
    """No script, no image, no stylesheet link; every reference is a fragment of the page."""
    for e in report.root.iter():
        assert e.tag not in {"script", "img", "link", "iframe", "object", "embed", "image"}
        for name, value in e.attrs.items():
            if name in {"src", "href", "xlink:href", "action", "srcset", "poster", "data"}:
                assert value.startswith("#"), (e.tag, name, value)
            if name == "style":
                assert "url(" not in value
        if e.tag == "style":
            assert "url(" not in e.text()
            assert "@import" not in e.text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", report.page)


def test_every_property_is_in_the_matrix_once_and_linked(report: Report) -> None:
    sections = _sections(report)
    table = report.root.one("table", id="matrix")
    linked: list[str] = []
    for tbody in table.find("tbody"):
        for td in tbody.find("td"):
            if td.attrs["data-verdict"] == "n/a":
                assert td.find("a") == []
                continue
            target = td.one("a").attrs["href"].removeprefix("#")
            s = sections[target]
            for k in ("data-property", "data-mode", "data-verdict"):
                assert s.attrs[k] == td.attrs[k], k
            assert s.attrs["data-model"] == tbody.attrs["data-model"]
            linked.append(target)
    assert sorted(linked) == sorted(sections)
    assert [t.attrs["data-model"] for t in table.find("tbody")] == [FOLD, LATENCY]


def test_sections_agree_with_the_json(report: Report) -> None:
    """One section per property result, in run order, with its verdict and outcome."""
    want = [
        (m["file"], p["id"], p["verdict"], p["outcome"])
        for m in report.doc["models"]
        for p in m["properties"]
    ]
    got = [
        (s.attrs["data-model"], s.attrs["data-property"], s.attrs["data-verdict"],
         s.attrs["data-outcome"])
        for s in report.root.find("section", class_="property")
    ]  # fmt: skip
    assert got == want


def test_yaml_links_point_at_the_definitions(report: Report) -> None:
    anchors = {e.attrs["id"]: e for e in report.root.iter() if "id" in e.attrs}
    files = {
        s.attrs["id"]: s.attrs["data-file"] for s in report.root.find("section", class_="source")
    }
    located = {
        (m["file"], p["id"]): p["location"] for m in report.doc["models"] for p in m["properties"]
    }
    seen = 0
    for s in report.root.find("section", class_="property"):
        where = located[(s.attrs["data-model"], s.attrs["data-property"])]
        links = s.find("a", class_="yaml")
        if where is None:  # the built-in range and deadlock checks
            assert links == []
            continue
        (a,) = links
        target = a.attrs["href"].removeprefix("#")
        assert re.fullmatch(r"src-\d+-L\d+", target)
        line = anchors[target]
        assert s.attrs["data-property"] in line.text()
        assert a.text() == f"{where['file']}:{where['line']}"
        assert files[target.rsplit("-", 1)[0]] == where["file"]
        assert target.endswith(f"-L{where['line']}")
        seen += 1
    assert seen > 20
    assert set(files.values()) >= {
        FOLD, LATENCY, "models/_base.yaml", "properties/core.yaml", "properties/latency.yaml"
    }  # fmt: skip


def test_trace_steps_link_to_their_actions(report: Report) -> None:
    anchors = {e.attrs["id"]: e for e in report.root.iter() if "id" in e.attrs}
    steps = report.root.find("a", class_="step-action")
    assert steps
    for a in steps:
        action = a.text().split("@")[0].split("{")[0]
        assert f"{action}:" in anchors[a.attrs["href"].removeprefix("#")].text()


def test_the_lost_request_is_drawn_at_step_3(report: Report) -> None:
    """As `verify --svg` draws it (tests/test_timeline.py), inline in its section."""
    (s,) = [
        s
        for s in report.root.find("section", class_="property")
        if s.attrs["data-model"] == FOLD and s.attrs["data-property"] == "request-not-lost"
    ]
    assert s.attrs["data-verdict"] == "violated"
    assert s.attrs["data-outcome"] == "as-expected"
    svg = s.one("svg")
    g = svg.one("g", class_="violation")
    assert g.attrs["data-step"] == "3"
    assert g.attrs["data-verdict"] == "violated"
    assert "violated (3 steps), as expected" in s.one("p", class_="message").text()
    details = s.one("details")
    table = details.one("pre").text()
    assert "step  cpu  action" in table
    assert "initial state" in table
    assert "is false in the last state" in table


def test_a_picture_and_a_trace_table_exactly_for_a_trace(report: Report) -> None:
    traced = [p["trace"] is not None for m in report.doc["models"] for p in m["properties"]]
    sections = report.root.find("section", class_="property")
    assert [len(s.find("svg")) for s in sections] == [int(t) for t in traced]
    assert [len(s.find("details")) for s in sections] == [int(t) for t in traced]
    assert any(traced)


def test_latency_table(report: Report) -> None:
    table = report.root.one("table", id="latency")
    cells = {
        (td.attrs["data-property"], td.text())
        for td in table.find("td")
        if "data-worst" in td.attrs
    }
    assert ("need-resched-served", "never") in cells  # IRQOFF_ENABLE=true
    assert ("need-resched-served", "unbounded") in cells
    assert ("served-at-return-to-user", "5") in cells
    sections = _sections(report)
    for a in table.find("a"):
        assert a.attrs["href"].removeprefix("#") in sections


def test_coverage_is_the_json_coverage(report: Report) -> None:
    runs = report.root.one("section", id="coverage").find("div", class_="run-coverage")
    assert len(runs) == len(report.doc["models"])
    for div, m in zip(runs, report.doc["models"], strict=True):
        assert div.attrs["data-model"] == m["file"]
        shown = {tr.attrs["data-action"]: tr for tr in div.find("tr") if "data-action" in tr.attrs}
        assert list(shown) == list(m["coverage"])
        for action, n in m["coverage"].items():
            assert ("unfired" in shown[action].classes) == (n == 0)
            assert shown[action].find("td")[1].text().startswith(f"{n:,}")
    assert report.root.find(
        "tr", class_="unfired"
    )  # latency.yaml: the RT-only actions are off in mode full


def test_without_latency_properties_there_is_no_latency_table(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    code, _, err = _verify("--html", str(out), str(ROOT / FOLD))
    assert code == 0, err
    root = parse(out.read_text(encoding="utf-8"))
    assert root.find("table", id="latency") == []
    assert root.one("table", id="matrix")


def test_written_when_a_property_fails(tmp_path: Path) -> None:
    """The exit code is verify's own; the page shows the unexpected verdict."""
    path = write_model(tmp_path, counter_model("m", properties="small:\n  invariant: x < 3"))
    code_without, _, _ = _verify(path)
    out = tmp_path / "r.html"
    code, _, err = _verify("--html", str(out), path)
    assert code == code_without == 1, err
    root = parse(out.read_text(encoding="utf-8"))
    (s,) = [
        s for s in root.find("section", class_="property") if s.attrs["data-property"] == "small"
    ]
    assert s.attrs["data-outcome"] == "unexpected"
    assert "FAIL" in s.text()
    assert "expected holds" in s.text()
    assert root.one("span", data_outcome="unexpected").text() == "1"
    assert s.one("svg").one("g", class_="violation").attrs["data-step"] == "3"


def test_a_file_that_cannot_be_checked_is_shown(tmp_path: Path) -> None:
    good = write_model(tmp_path, counter_model("ok"), "good.yaml")
    bad = write_model(tmp_path, "model: bad\nvars: {x: {type: int}}\n", "bad.yaml")
    out = tmp_path / "r.html"
    code, _, err = _verify("--html", str(out), good, bad)
    assert code == 2, err
    root = parse(out.read_text(encoding="utf-8"))
    shown = root.one("section", id="errors").one("pre", data_model=bad).text()
    assert "error[PC" in shown
    assert [t.attrs["data-model"] for t in root.one("table", id="matrix").find("tbody")] == [good]


@pytest.mark.parametrize(
    ("target", "why"),
    [(".", "is a directory"), ("model.yaml/r.html", "is not a folder")],
)
def test_an_html_path_that_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, why: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write_model(tmp_path, counter_model("ok"))
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = _verify("--html", target, "model.yaml")
    assert code == 2, out + err
    assert "states" not in out  # refused before the run
    assert "error[PC203]: --html " in err, err
    assert why in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails after the run: exit 2 in the error format, no half-written file."""
    path = write_model(tmp_path, counter_model("ok"))
    out = tmp_path / "out" / "r.html"

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("preemptcheck.core.outfiles.os.replace", refuse)
    code, _, err = _verify("--html", str(out), path)
    assert code == 2
    assert f"error[PC203]: --html {out}: cannot write: No space left on device" in err, err
    assert list(out.parent.iterdir()) == []


def test_html_and_junit_to_one_file_are_refused(tmp_path: Path) -> None:
    path = write_model(tmp_path, counter_model("ok"))
    code, _, err = _verify("--junit", str(tmp_path / "x"), "--html", str(tmp_path / "x"), path)
    assert code == 2
    assert "error[PC203]: --junit and --html name the same file" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_every_bundled_model(tmp_path: Path, shared_results: Path) -> None:
    """`preemptcheck verify --html report.html models/`, as the README shows it (the folder
    by the path the other readers of the session's shared runs name it)."""
    out = tmp_path / "report.html"
    models = str(ROOT / "models")
    code, stdout, err = _verify("--html", str(out), "--format", "json", models, cache=True)
    doc = json.loads(stdout)
    assert code == doc["exit_code"], err
    root = parse(out.read_text(encoding="utf-8"))
    sections = root.find("section", class_="property")
    assert len(sections) == sum(len(m["properties"]) for m in doc["models"])
    ids = Counter(e.attrs["id"] for e in root.iter() if "id" in e.attrs)
    assert max(ids.values()) == 1
    for a in root.find("a"):
        assert a.attrs["href"].removeprefix("#") in ids
