"""The oracle (`check_run`, `check_engines`): the promises every run of a case must keep.

For every run of a case:
* the exit code is 0, 1, 2 or 3; 4 is an internal error, anything else (or death by a
  signal, or an exception escaping the command) a crash. A run over its time limit is a HANG;
* nothing prints `internal error` or a `Traceback`, and no Python warning is raised (one a
  real process would print on stderr: DeprecationWarning and friends are hidden there too);
* every exit 2 says where. Diagnostics are printed by the report on stdout (indented under
  `FILE: cannot be checked`) or on stderr (usage errors); every `error[PCnnn]` line of either,
  indentation ignored, must
    - for a problem inside a file (PC002-PC199): start `FILE:LINE:COL: ` with LINE >= 1,
      COL >= 1 and, when FILE can be read, LINE at most one past its last line;
    - for a read or usage error (PC001, PC2xx): start with a path (`PATH: error[...]`) or a
      location, or name the command-line option (`--set ...`);
  and an exit 2 without any such line must be the option parser's usage error (`Usage: ...`
  and an error box naming an option, an argument or a command);
* an `error[PCnnn]` diagnostic means exit 2 (bad input wins over every other exit code);
* `--format json`: stdout is empty or one JSON document;
* output files (`--junit F`, `--sarif F`, `--trace-dir D`): after the run each is absent or
  whole and valid (JUnit: XML with a testsuites/testsuite root; SARIF: a JSON log with
  `runs`; every new file in D: NAME.itf.json with `states`, NAME.chrome.json with
  `traceEvents`, or NAME.ftrace.txt that `preemptcheck trace` reads), no `*.tmp` file is
  left next to them, and on exit 0, 1 or 3 a requested --junit/--sarif file exists;
* no input may run code: payloads in names and strings try to create the file `PWNED` in
  the working directory (`MARKER`); it must not exist afterwards;
* a case may pin a stricter expectation (`Case.expect`): `--timeout nan` must be refused
  (exit 2), an `extends` chain 300 files deep must verify (exit 0), ...;
* semantic mutants (`Case.engines`) run with `--engine explicit` and `--engine symbolic`
  (`--format json`): a property both engines decide (holds vs violated) gets the same
  verdict from both, and the same trace length when violated. `unknown` and `bounded` are
  not decisions, so they never disagree.

Signal cases (SIGINT/SIGTERM sent to a real process mid-run) are held to the same oracle,
except that the exit code must be the signal's: 130 after SIGINT, 143 after SIGTERM (README,
exit codes), within 10 s of the signal.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

from preemptcheck.ftrace.parse import Reader, TraceFormatError

from .cases import Case, Problem, Run, normalize
from .diagnostics import check_diagnostic, diagnostics
from .models import MARKER

_INTERNAL = re.compile(r"(?m)^\s*internal error\b.*$")
SIGNAL_GRACE = 10.0  # seconds a run may take to stop once signalled


def _output_options(argv: list[str]) -> list[tuple[str, str]]:
    """(option, value) of the output options on a command line; an option given twice
    counts once, with its last value (as the option parser takes it)."""
    last: dict[str, str] = {}
    for i, a in enumerate(argv):
        if a == "--":
            break
        for opt in ("--junit", "--sarif", "--trace-dir"):
            if a == opt and i + 1 < len(argv):
                last[opt] = argv[i + 1]
            elif a.startswith(opt + "="):
                last[opt] = a.partition("=")[2]
    return list(last.items())


def _listing(directory: Path) -> dict[str, float]:
    try:
        with os.scandir(directory) as it:
            return {e.name: e.stat(follow_symlinks=False).st_mtime for e in it}
    except (OSError, ValueError):
        return {}


def snapshot(argv: list[str], workdir: Path) -> dict[str, dict[str, float]]:
    """The directories the output options write into, as they are before a run."""
    snap: dict[str, dict[str, float]] = {}
    for opt, value in _output_options(argv):
        target = workdir / value
        directory = target if opt == "--trace-dir" else target.parent
        snap[str(directory)] = _listing(directory)
    return snap


def _check_outputs(
    argv: list[str], run: Run, workdir: Path, before: dict[str, dict[str, float]]
) -> list[Problem]:
    problems: list[Problem] = []
    seen_dirs: set[str] = set()
    for opt, value in _output_options(argv):
        target = workdir / value
        directory = target if opt == "--trace-dir" else target.parent
        old = before.get(str(directory), {})
        now = _listing(directory)
        new = [n for n, m in now.items() if old.get(n) != m]
        if str(directory) not in seen_dirs:
            seen_dirs.add(str(directory))
            leftovers = [n for n in new if n.endswith(".tmp")]
            if leftovers:
                problems.append(
                    Problem(f"{opt}: temporary file left behind", f"{directory}: {leftovers[:3]}")
                )
        if opt == "--trace-dir":
            for name in new:
                if name.endswith(".tmp"):
                    continue
                p = directory / name
                if p.is_file() and not p.is_symlink():
                    err = _invalid_trace_file(p)
                    if err:
                        problems.append(Problem("--trace-dir: a trace file is not valid", err))
            continue
        try:
            st = os.stat(target, follow_symlinks=False)
        except (OSError, ValueError):
            st = None
        if st is None or not stat.S_ISREG(st.st_mode):
            if st is None and run.exit_code in (0, 1, 3):
                problems.append(
                    Problem(f"{opt}: not written on exit {run.exit_code}", f"{opt} {value}")
                )
            continue
        if target.name not in new:
            continue  # there before the run, untouched
        err = _invalid_xml(target) if opt == "--junit" else _invalid_json(target, "runs")
        if err:
            problems.append(Problem(f"{opt}: the file written is not valid", err))
    return problems


def _invalid_xml(path: Path) -> str | None:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError, ValueError) as exc:
        return f"{path.name}: {exc}"
    if root.tag not in ("testsuites", "testsuite"):
        return f"{path.name}: root element <{root.tag}>"
    return None


def _invalid_trace_file(path: Path) -> str | None:
    """Each trace is written as ITF JSON, Chrome trace-event JSON and ftrace text."""
    if path.name.endswith(".itf.json"):
        return _invalid_json(path, "states")
    if path.name.endswith(".chrome.json"):
        return _invalid_json(path, "traceEvents")
    if path.name.endswith(".ftrace.txt"):
        try:
            with path.open("rb") as f:
                lines = list(Reader(f))
        except (OSError, TraceFormatError) as exc:
            return f"{path.name}: {exc}"
        if not path.read_text(encoding="utf-8").lstrip().startswith("#"):
            return f"{path.name}: no header ({len(lines)} events)"
        return None
    return f"{path.name}: not a file --trace-dir writes"


def _invalid_json(path: Path, key: str) -> str | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"{path.name}: {exc}"
    if not isinstance(doc, dict) or key not in doc:
        return f"{path.name}: no '{key}' in the document"
    return None


def check_run(
    case: Case, run: Run, workdir: Path, before: dict[str, dict[str, float]]
) -> list[Problem]:
    """Every promise of the module docstring that one run can break."""
    if run.hang and case.send_signal is not None:
        name = signal.Signals(case.send_signal[0]).name
        return [
            Problem(
                f"HANG in {case.kind}: no exit within {SIGNAL_GRACE:g} s of {name}, "
                f"{normalize(case.label)[:60]}",
                f"{name} sent after {case.send_signal[1]:g} s",
            )
        ]
    if run.hang:
        return [
            Problem(
                case.hang_cause(),
                f"no exit within {case.limit:g} s",
            )
        ]
    problems: list[Problem] = []
    out = run.stdout + run.stderr
    signalled = case.send_signal is not None
    if run.signal is not None and not signalled:
        name = signal.Signals(run.signal).name
        problems.append(Problem(f"crash: killed by {name}", run.stderr[-500:]))
    if run.exception is not None:
        last = run.exception.strip().splitlines()[-1]
        problems.append(Problem(f"uncaught exception: {normalize(last, workdir)}", run.exception))
    code = run.exit_code
    if code is not None and not signalled and code not in (0, 1, 2, 3):
        found = _INTERNAL.search(out)
        first = found.group(0) if found else ""
        problems.append(Problem(f"exit {code}: {normalize(first.strip(), workdir)}", out[-1500:]))
    elif _INTERNAL.search(out):
        first = _INTERNAL.search(out).group(0)  # type: ignore[union-attr]
        problems.append(
            Problem(f"exit {code} with {normalize(first.strip(), workdir)}", out[-1500:])
        )
    if "Traceback" in out:
        tb = out[out.index("Traceback") :]
        last = next(
            (
                ln
                for ln in reversed(tb.splitlines())
                if re.match(r"\s*[\w.]+(Error|Exception|Interrupt)\b", ln)
            ),
            tb.strip().splitlines()[-1],
        )
        problems.append(
            Problem(f"traceback printed: {normalize(last.strip(), workdir)}", tb[-1500:])
        )
    for w in run.warnings:
        problems.append(Problem(f"Python warning: {normalize(w, workdir)}", w))
    diags = diagnostics(run)
    for d in diags:
        p = check_diagnostic(d, workdir)
        if p:
            problems.append(p)
    if code == 2 and not diags and not signalled:
        box = re.search(r"(?m)^(?:Error: |.*─ Error ─).*", run.stderr, re.S)  # the parser's
        if not box:
            problems.append(Problem("exit 2 without a diagnostic", out[-800:]))
        else:
            if not re.search(r"option|argument|command|(?<!\w)-+\w", box.group(0), re.I):
                problems.append(
                    Problem("usage error names no option or argument", box.group(0)[:400])
                )
    if run.signalled and case.send_signal is not None:
        sig = case.send_signal[0]
        written = [
            f"{opt} {value}"
            for opt, value in _output_options(run.argv)
            if opt != "--trace-dir" and (workdir / value).is_file()
        ]
        name = signal.Signals(sig).name
        # README: a run the signal stopped writes no report files; one that had decided
        # everything when the signal came writes them whole (as every run must) and says so
        stopped = f"interrupted by {name}: the verdicts above" in run.stdout
        if written and code == 128 + sig and stopped:
            problems.append(Problem(f"output files written after {name}", ", ".join(written)))
        if code != 128 + sig and run.signal != sig:
            problems.append(
                Problem(
                    f"{name} during {case.label.rpartition('during ')[2]}: exit {code}, "
                    f"not {128 + sig} (the signal was lost)",
                    out[-800:],
                )
            )
    if diags and code in (0, 1, 3) and not signalled:
        problems.append(
            Problem(f"exit {code} with an error[{diags[0].code}] diagnostic", diags[0].line)
        )
    formats = [b for a, b in zip(run.argv, run.argv[1:], strict=False) if a == "--format"]
    if formats and formats[-1] == "json" and run.stdout.strip() and code in (0, 1, 2, 3):
        try:
            json.loads(run.stdout)
        except ValueError as exc:
            problems.append(Problem("--format json: stdout is not one JSON document", str(exc)))
    problems += _check_outputs(run.argv, run, workdir, before)
    if (workdir / MARKER).exists():
        problems.append(Problem("input ran code: the marker file was created", case.label))
    if case.expect is not None and code is not None and code not in case.expect and not signalled:
        want = " or ".join(map(str, case.expect))
        problems.append(Problem(f"expected exit {want}, got {code}: {case.label}", out[-800:]))
    return unique(problems)


def unique(problems: list[Problem]) -> list[Problem]:
    seen: dict[str, Problem] = {}
    for p in problems:
        seen.setdefault(p.cause, p)
    return list(seen.values())


def verdicts(run: Run) -> dict[tuple[str, str, str], tuple[str, int | None, str]]:
    """(file, params, property) -> (verdict, trace length, kind) from a --format json run."""
    try:
        doc = json.loads(run.stdout)
    except ValueError:
        return {}
    out: dict[tuple[str, str, str], tuple[str, int | None, str]] = {}
    for m in doc.get("models", []):
        if m.get("status") != "checked":
            continue
        params = json.dumps(m.get("params"), sort_keys=True)
        for p in m.get("properties", []):
            trace = p.get("trace")
            length = trace.get("length") if isinstance(trace, dict) else None
            out[(m.get("file", ""), params, p["id"])] = (p["verdict"], length, p.get("kind", "?"))
    return out


def check_engines(explicit: Run, symbolic: Run) -> list[Problem]:
    """A property decided by both engines gets the same verdict (and trace length)."""
    a, b = verdicts(explicit), verdicts(symbolic)
    problems: list[Problem] = []
    for key in sorted(a.keys() & b.keys()):
        (va, la, kind), (vb, lb, _) = a[key], b[key]
        decided = {"holds", "violated"}
        if va in decided and vb in decided and va != vb:
            problems.append(
                Problem(
                    f"engines disagree: explicit {va}, symbolic {vb} ({kind} property)",
                    f"property {key[2]} {key[1]}: explicit {va} (trace {la}), "
                    f"symbolic {vb} (trace {lb})",
                )
            )
        elif va == vb == "violated" and la is not None and lb is not None and la != lb:
            problems.append(
                Problem(
                    f"engines disagree on the trace length ({kind} property)",
                    f"property {key[2]} {key[1]}: explicit {la} steps, symbolic {lb} steps",
                )
            )
    return unique(problems)
