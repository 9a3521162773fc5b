"""What a person sees: the SVG timelines, the state graph and the HTML report, rendered in
headless Chromium (tests/browser.py), with no console errors and the violating step on screen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from browser import HEIGHT, Box, Browser, Page, browser_fixture
from pngpixels import png_colours
from preemptcheck.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
FOLD = "models/races/fold-remote-rmw.yaml"
EXAMPLE = ROOT / "examples" / "timeline-fold-remote-rmw.svg"
# report/timeline.py's highlighted column: pale red for a violation, pale green for a witness
VIOLATION_FILL = "#fdecea"
WITNESS_FILL = "#e8f6e8"
VERDICTS = ("holds", "violated", "bounded", "unknown")
# no golden screenshots: text is drawn with whatever fonts the machine has, so whole images
# differ across machines; the tests read the rendered DOM and count pixels of known colours


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from browser_fixture()


def _cli(*args: str) -> None:
    result = CliRunner().invoke(app, list(args), env={"PREEMPTCHECK_CACHE": "0"})
    assert result.exit_code == 0, result.output


def _open(page: Page, path: Path) -> str:
    url = path.resolve().as_uri()
    page.goto(url)
    return url


def _clean(page: Page, url: str) -> None:
    """No console errors or warnings, no exception, nothing fetched but the file itself."""
    assert page.problems() == []
    assert page.requests() == [url]


def _share(page: Page, box: Any, colour: str) -> float:
    """The part of the screenshot of `box` that is `colour`."""
    counts = png_colours(page.screenshot(box))
    return counts[colour] / sum(counts.values())


def test_screenshot_pixels_are_read_exactly(browser: Browser) -> None:
    """The screenshot and PNG decoding the colour checks rest on: 256 one-pixel columns of
    known colours, clipped (neighbours differ: Chromium filters these rows with Sub, Up and
    Paeth)."""
    colours = [f"#{i:02x}{255 - i:02x}{(i * 7) % 256:02x}" for i in range(256)]
    with browser.page() as page:
        page.evaluate(
            "document.body.style.margin = '0';"
            f"document.body.innerHTML = {json.dumps(colours)}.map(c => "
            '`<div style="position:absolute;top:10px;left:${parseInt(c.slice(1, 3), 16)}px;'
            "width:1px;height:20px;background:${c}\"></div>`).join('')"
        )
        counts = png_colours(page.screenshot(Box(0, 10, 256, 20, 0, 0)))
    assert counts == dict.fromkeys(colours, 20)


# the timeline of verify --svg


@pytest.fixture(scope="module")
def timelines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("svg")
    cwd = Path.cwd()
    os.chdir(ROOT)  # as the README runs it, from the checkout
    try:
        _cli("verify", "--svg", str(out), FOLD)
    finally:
        os.chdir(cwd)
    return out


def test_timeline_shows_the_lost_request_at_step_3(browser: Browser, timelines: Path) -> None:
    with browser.page() as page:
        url = _open(page, timelines / "fold-remote-rmw.request-not-lost.svg")
        _clean(page, url)
        assert page.evaluate("document.querySelector('#violation').dataset.step") == "3"
        box = page.box("#violation", scroll=True)
        assert box is not None
        assert box.in_viewport(), box
        assert _share(page, box, VIOLATION_FILL) > 0.5
        # the highlighted column is step 3's: its number stands over it
        label = page.box("#step-3 text:last-of-type")
        assert label is not None
        number = page.evaluate("document.querySelector('#step-3 text:last-of-type').textContent")
        assert number == "step 3 cpu0"
        assert label.width > 0
        assert box.x <= label.x + label.width / 2 <= box.x + box.width
        for cpu in (0, 1):
            lane = page.box(f"#lane-cpu{cpu}")
            assert lane is not None
            assert lane.width > 0
            assert lane.height > 0
            text = page.evaluate(f"document.querySelector('#lane-cpu{cpu}').textContent")
            assert f"CPU {cpu}" in text
        assert page.box("#lane-cpu2") is None


def test_witness_is_highlighted_green(browser: Browser, timelines: Path) -> None:
    with browser.page() as page:
        url = _open(page, timelines / "fold-remote-rmw.request-served.svg")
        _clean(page, url)
        box = page.box("#violation", scroll=True)
        assert box is not None
        assert box.in_viewport(), box
        assert _share(page, box, WITNESS_FILL) > 0.5
        assert _share(page, box, VIOLATION_FILL) == 0


def test_readme_example_renders(browser: Browser) -> None:
    with browser.page() as page:
        url = _open(page, EXAMPLE)
        _clean(page, url)
        box = page.box("#violation", scroll=True)
        assert box is not None
        assert box.in_viewport(), box
        assert _share(page, box, VIOLATION_FILL) > 0.5


# the state graph, drawn by Graphviz


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's dot is not installed: run .ci/install-optional (apt install graphviz)",
)
def test_state_graph_svg_renders(browser: Browser, tmp_path: Path) -> None:
    out = tmp_path / "full.svg"
    _cli("graph", str(ROOT / "models" / "full.yaml"), "--project", "pc,irqs_off", "-o", str(out))
    with browser.page() as page:
        url = _open(page, out)
        _clean(page, url)
        sizes = page.evaluate(
            "[...document.querySelectorAll('g.node')].map(n => n.getBBox())"
            ".map(b => b.width * b.height)"
        )
        assert len(sizes) == 24  # as the command says: 24 nodes (quotient over pc,irqs_off)
        assert all(s > 0 for s in sizes)
        assert page.evaluate("document.querySelectorAll('g.edge').length") > 0
        # the counterexample's first node, outlined in red
        box = page.box("g.node.counterexample", scroll=True)
        assert box is not None
        assert box.in_viewport(), box
        assert _share(page, box, "#ff0000") > 0.01


# the HTML report of verify --html


@dataclass(frozen=True, slots=True)
class Report:
    path: Path
    json: dict[str, Any]

    def verdicts(self) -> Counter[str]:
        return Counter(p["verdict"] for m in self.json["models"] for p in m["properties"])


def _report(tmp_path: Path, shared: Path) -> Report:
    """`verify --html report.html models/`, with the JSON of the same run beside it; the
    runs are the session's shared ones of the bundled models (conftest's shared_results_dir:
    other tests check the same folder by the same path)."""
    html = tmp_path / "report.html"
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("preemptcheck")), "verify", "--html", str(html),
         "--format", "json", str(ROOT / "models")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PREEMPTCHECK_CACHE": "1", "PREEMPTCHECK_CACHE_DIR": str(shared)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return Report(html, json.loads(proc.stdout))


@pytest.mark.slow
def test_the_report_of_the_bundled_models(
    browser: Browser, tmp_path: Path, shared_results_dir: Path
) -> None:
    """The report of every bundled model, as a person sees it. One test, so one run of
    `verify` (some 20 s) serves every check below and no test worker waits for another."""
    report = _report(tmp_path, shared_results_dir)
    with browser.page() as page:
        url = _open(page, report.path)
        _clean(page, url)
        _loads_cleanly(page)
        _summary_shows_the_runs_counts(page, report)
        _matrix_and_sections_agree_with_the_run(page, report)
        _yaml_links_lead_to_source_lines(page)
        _clicking_a_violation_shows_its_step(page)


def _loads_cleanly(page: Page) -> None:
    """No console errors, nothing fetched but the file (checked when opened), and the
    parts a reader looks for are there and drawn."""
    for selector in ("main#report", "#summary", "table#matrix"):
        box = page.box(selector)
        assert box is not None, selector
        assert box.width > 0, selector
        assert box.height > 0, selector
    assert page.box("table#latency") is not None  # models/latency.yaml's responses
    assert page.box("#coverage") is not None


def _summary_shows_the_runs_counts(page: Page, report: Report) -> None:
    """The counts a person reads at the top are those of the JSON report of the same run."""
    expected = report.verdicts()
    assert sum(expected.values()) > 300
    shown = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('#summary .count')]"
        ".map(e => [e.dataset.verdict || e.dataset.outcome, e.innerText.trim()]))"
    )
    assert {v: int(shown[v].replace(",", "")) for v in VERDICTS} == {
        v: expected[v] for v in VERDICTS
    }
    summary = report.json["summary"]
    assert int(shown["unexpected"]) == summary["unexpected"]
    assert int(shown["inconclusive"]) == summary["inconclusive"]


def _matrix_and_sections_agree_with_the_run(page: Page, report: Report) -> None:
    """A section per property result, a linked cell for each with its verdict."""
    expected = report.verdicts()
    sections = page.evaluate(
        "[...document.querySelectorAll('section.property')].map(s => [s.id, s.dataset.verdict])"
    )
    assert Counter(v for _, v in sections) == expected
    verdict_of = dict(sections)
    cells = page.evaluate(
        "[...document.querySelectorAll('#matrix td[data-verdict]')].map(c => "
        "[c.dataset.verdict, c.querySelector('a')?.getAttribute('href') ?? null])"
    )
    linked = [(v, href) for v, href in cells if v != "n/a"]
    assert all(href is None for v, href in cells if v == "n/a")
    assert all(href is not None and href.startswith("#") for _, href in linked)
    for v, href in linked:
        assert verdict_of[href[1:]] == v, href
    assert {href for _, href in linked} == {f"#{i}" for i in verdict_of}


def _clicking_a_violation_shows_its_step(page: Page) -> None:
    """Click a violated cell of the matrix: its section comes into view, with the timeline's
    violating step highlighted on screen."""
    link = "#matrix td[data-verdict=violated] a"
    href = page.evaluate(f"document.querySelector('{link}').getAttribute('href')")
    box = page.box(link, scroll=True)
    assert box is not None
    assert box.in_viewport(), box
    page.click(box)
    target = f"section.property[id={json.dumps(href[1:])}]"
    top = f"document.querySelector('{target}').getBoundingClientRect().top"
    page.wait_until(
        f"location.hash === {json.dumps(href)} && {top} >= -1 && {top} < {HEIGHT / 2}",
        f"{href} scrolled into view",
    )
    verdict = page.evaluate(f"document.querySelector('{target}').dataset.verdict")
    assert verdict == "violated"
    step = page.box(f"{target} svg g.violation")
    assert step is not None
    if not step.in_viewport():  # a long trace: its last step is further right or down
        step = page.box(f"{target} svg g.violation", scroll=True)
        assert step is not None
    assert step.in_viewport(), step
    assert _share(page, step, VIOLATION_FILL) > 0.5


def _yaml_links_lead_to_source_lines(page: Page) -> None:
    broken = page.evaluate(
        "[...document.querySelectorAll('a.yaml')].map(a => a.getAttribute('href'))"
        ".filter(h => !h.startsWith('#src-') ||"
        " !document.getElementById(h.slice(1))?.closest('section.source'))"
    )
    count = page.evaluate("document.querySelectorAll('a.yaml').length")
    assert count > 0
    assert broken == []
