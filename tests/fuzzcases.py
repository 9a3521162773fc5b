"""Fuzz cases for `preemptcheck verify` and the oracle every case must pass (issue 13: never
crash, never hang). Shared by tests/test_fuzz.py (the CI suite, in-process) and
benchmarks/fuzz.py (the long campaign, one subprocess per case).

A `Case` is a small file tree, written into a fresh directory (the case's working directory,
where the command runs), a command line, a time limit and the few facts of how it must run
(`process`: it needs a real process: a FIFO or a device that blocks or never ends, a signal,
or a risk of taking the whole interpreter down). `generate(kind, seed)` builds the same case
for the same arguments on every machine and every run (each case draws from its own
`random.Random(f"{kind}:{seed}")`; generated models are the corpus tests/strategies.py drew
into tests/fixtures/agreement/), and `suite(counts, seed)` lists a mix of the classes in `KINDS`.

The oracle (`check_run`, `check_engines`), for every run of a case:

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
  `runs`; every new file in D: an ITF JSON document with `states`), no `*.tmp` file is left
  next to them, and on exit 0, 1 or 3 a requested --junit/--sarif file exists;
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

import contextlib
import json
import os
import random
import re
import resource
import shlex
import signal
import socket
import stat
import subprocess
import sys
import time
import traceback
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
MARKER = "PWNED"
MEMORY_LIMIT = 1 << 30  # address space of a case's process (a runaway read gives MemoryError)


def _bundled() -> dict[str, str]:
    out: dict[str, str] = {}
    for pattern in ("models/*.yaml", "models/races/*.yaml", "properties/*.yaml"):
        for p in sorted(ROOT.glob(pattern)):
            out[str(p.relative_to(ROOT))] = p.read_text(encoding="utf-8")
    return out


BUNDLED = _bundled()
MODE_FILES = [f"models/{m}.yaml" for m in ("none", "voluntary", "full", "lazy", "rt")]
RACES = sorted(p for p in BUNDLED if p.startswith("models/races/"))
HEAVY = {*MODE_FILES, "models/_base.yaml", "models/latency.yaml"}  # too slow for z3 in a case


# ---------------------------------------------------------------- cases


@dataclass
class Case:
    """One fuzz case: files to write, a command line to run in their directory."""

    kind: str
    seed: int
    label: str  # what the case tries, e.g. "FIFO as extends"
    argv: list[str]  # after the program name: ["verify", ...]
    files: dict[str, str | bytes] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)  # path -> target
    fifos: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)  # (empty) directories
    chmods: dict[str, int] = field(default_factory=dict)  # applied last, undone after the run
    limit: float = 10.0  # seconds per run
    process: bool = False  # needs a real process (see the module docstring)
    send_signal: tuple[int, float] | None = None  # (signal, seconds after the start)
    engines: bool = False  # a semantic mutant: run on both engines and compare
    expect: tuple[int, ...] | None = None  # the exit codes this case must give
    needs_unreadable: bool = False  # chmod 000 must stop reads (not as root)
    hang_group: str = ""  # what a HANG of this case is grouped by (default: its label)

    def hang_cause(self) -> str:
        return f"HANG in {self.kind}: {self.hang_group or normalize(self.label)[:80]}"

    @property
    def cid(self) -> str:
        return f"{self.kind}#{self.seed}"

    def runs(self) -> list[list[str]]:
        if not self.engines:
            return [self.argv]
        return [[*self.argv, "--engine", e] for e in ("explicit", "symbolic")]

    def size(self) -> int:
        """How big the reproducer is (to pick the smallest of a failure cause)."""
        n = sum(len(v) for v in self.files.values() if not self._is_bundled_copy(v))
        return n + sum(len(a) for a in self.argv) + 50 * len(self.files)

    def _is_bundled_copy(self, content: str | bytes) -> bool:
        return isinstance(content, str) and content in _BUNDLED_TEXTS

    def command(self) -> str:
        return "preemptcheck " + " ".join(shlex.quote(a) for a in self.argv)

    def describe(self, limit: int = 3000) -> str:
        """The reproducer: every file (bundled copies by name only), links, the command."""
        lines = [f"case {self.cid}: {self.label}"]
        same = sorted(p for p, v in self.files.items() if self._is_bundled_copy(v))
        if same:
            lines.append(f"  bundled files, unchanged: {', '.join(same)}")
        for path, content in sorted(self.files.items()):
            if self._is_bundled_copy(content):
                continue
            lines.append(f"  --- {path!r} ({len(content):,} {_unit(content)}) ---")
            lines.append(_excerpt(content, limit))
        for path, target in sorted(self.symlinks.items()):
            lines.append(f"  symlink {path!r} -> {target!r}")
        for path in self.fifos:
            lines.append(f"  FIFO {path!r} (no writer)")
        for path in self.sockets:
            lines.append(f"  UNIX socket {path!r}")
        for path in self.dirs:
            lines.append(f"  directory {path!r}")
        for path, mode in sorted(self.chmods.items()):
            lines.append(f"  chmod {mode:o} {path!r}")
        if self.send_signal:
            sig, after = self.send_signal
            lines.append(f"  {signal.Signals(sig).name} sent after {after:g} s")
        for argv in self.runs():
            cmd = "preemptcheck " + " ".join(shlex.quote(a) for a in argv)
            lines.append(f"  $ PREEMPTCHECK_CACHE=0 {_excerpt(cmd, 600)}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            if k == "files":
                v = {p: (c.decode("latin-1") if isinstance(c, bytes) else c) for p, c in v.items()}
            out[k] = v
        return out


_BUNDLED_TEXTS = frozenset(BUNDLED.values())


def _unit(content: str | bytes) -> str:
    return "bytes" if isinstance(content, bytes) else "chars"


def _excerpt(content: str | bytes, limit: int) -> str:
    text = content.decode("latin-1") if isinstance(content, bytes) else content
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n  [... {len(text) - limit:,} more characters ...]\n{text[-half:]}"


def materialize(case: Case, workdir: Path) -> None:
    """Write the case's files into `workdir` (which exists)."""
    for d in case.dirs:
        (workdir / d).mkdir(parents=True, exist_ok=True)
    for rel, content in case.files.items():
        path = os.path.join(os.fsencode(workdir), os.fsencode(rel))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
        with open(path, "wb") as fh:
            fh.write(data)
    for rel, target in case.symlinks.items():
        path = workdir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)
    for rel in case.fifos:
        (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(workdir / rel)
    for rel in case.sockets:
        (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(workdir / rel))
        except OSError:  # a path too long for sun_path: the case runs without it
            pass
        finally:
            sock.close()
    for rel, mode in case.chmods.items():
        os.chmod(workdir / rel, mode)


def release(case: Case, workdir: Path) -> None:
    """Undo the case's chmods, so that its directory can be removed."""
    for rel in case.chmods:
        p = workdir / rel
        with contextlib.suppress(OSError):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)


@lru_cache(maxsize=1)
def chmod_stops_reads() -> bool:
    """False as root (or with CAP_DAC_OVERRIDE): chmod 000 then does not stop reads."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        locked = Path(tmp) / "locked"
        locked.mkdir()
        (locked / "f").write_text("x")
        os.chmod(locked, 0)
        try:
            os.listdir(locked)
            return False
        except PermissionError:
            return True
        finally:
            os.chmod(locked, 0o755)


# ---------------------------------------------------------------- running a case


@dataclass
class Run:
    """What one command line of a case did."""

    argv: list[str]
    exit_code: int | None  # None: it did not exit (a hang, a signal)
    stdout: str = ""
    stderr: str = ""
    elapsed: float = 0.0
    hang: bool = False
    signal: int | None = None  # killed by this signal
    exception: str | None = None  # an exception that escaped the command, with its traceback
    warnings: list[str] = field(default_factory=list)
    signalled: bool = False  # the case's signal reached the running process

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Hang(BaseException):
    """Raised by SIGALRM in the main thread: the run went over its time limit."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Hang


_HIDDEN_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def run_inprocess(argv: list[str], workdir: Path, limit: float) -> Run:
    """Run the Typer app in this process (typer's CliRunner), in `workdir`, under a
    SIGALRM time limit (main thread only)."""
    from typer.testing import CliRunner

    from preemptcheck.cli import app

    old_cwd = os.getcwd()
    old_handler = signal.signal(signal.SIGALRM, _on_alarm)
    os.chdir(workdir)
    t0 = time.monotonic()
    run = Run(argv, None)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                signal.setitimer(signal.ITIMER_REAL, limit)
                try:
                    result = CliRunner().invoke(app, argv, catch_exceptions=True)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _Hang:
                run.hang = True
            else:
                run.exit_code = result.exit_code
                run.stdout = result.stdout
                run.stderr = result.stderr
                if result.exception is not None and not isinstance(result.exception, SystemExit):
                    assert result.exc_info is not None
                    run.exception = "".join(traceback.format_exception(*result.exc_info))
                    run.exit_code = None
        run.warnings = [
            f"{w.category.__name__}: {w.message}"
            for w in caught
            if not issubclass(w.category, _HIDDEN_WARNINGS)
        ]
    finally:
        signal.signal(signal.SIGALRM, old_handler)
        os.chdir(old_cwd)
    run.elapsed = time.monotonic() - t0
    if run.elapsed > limit * 1.5:  # the alarm could not interrupt (a long call in C)
        run.hang = True
    return run


def _child_limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


PROGRAM = "from preemptcheck.cli import main; main()"


def run_process(
    argv: list[str], workdir: Path, limit: float, send_signal: tuple[int, float] | None = None
) -> Run:
    """Run the command in a new Python process (the installed entry point), killed at the
    time limit."""
    cmd = [sys.executable, "-c", PROGRAM, *argv]
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_child_limits,
        start_new_session=True,
    )
    run = Run(argv, None)
    wait = limit
    if send_signal is not None:
        sig, after = send_signal
        try:
            proc.wait(timeout=after)
        except subprocess.TimeoutExpired:
            proc.send_signal(sig)
            run.signalled = True
            wait = min(limit - after, SIGNAL_GRACE)
    try:
        out, err = proc.communicate(timeout=wait)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        run.hang = True
    run.elapsed = time.monotonic() - t0
    run.stdout = out.decode("utf-8", "replace")
    run.stderr = err.decode("utf-8", "replace")
    if not run.hang:
        if proc.returncode < 0:
            run.signal = -proc.returncode
        else:
            run.exit_code = proc.returncode
    return run


# ---------------------------------------------------------------- the oracle


@dataclass(frozen=True)
class Problem:
    """One broken promise: `cause` groups problems of one bug, `detail` is the evidence."""

    cause: str
    detail: str


_FILE_CODES = re.compile(r"PC(00[2-9]|0[1-9]\d|1\d\d)$")  # problems inside a file
_DIAG = re.compile(r"^(?:(?P<where>.*?): )?error\[(?P<code>PC\d{3})\]: ?(?P<rest>.*)$")
_LOC = re.compile(r"^(?P<file>.+):(?P<line>-?\d+):(?P<col>-?\d+)$")
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
_INTERNAL = re.compile(r"(?m)^\s*internal error\b.*$")


def normalize(message: str, workdir: Path | None = None) -> str:
    """A message without what varies between cases of one bug (names, numbers, paths)."""
    text = message
    if workdir is not None:
        text = text.replace(str(workdir), "<dir>")
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r'"[^"]*"', '"…"', text)
    text = re.sub(r"(?<![A-Za-z])/[^\s:,)]+", "<path>", text)
    text = re.sub(r"\d+", "N", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:140]


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
                    err = _invalid_json(p, "states")
                    if err:
                        problems.append(Problem("--trace-dir: a trace file is not valid ITF", err))
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


def _invalid_json(path: Path, key: str) -> str | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"{path.name}: {exc}"
    if not isinstance(doc, dict) or key not in doc:
        return f"{path.name}: no '{key}' in the document"
    return None


@dataclass(frozen=True)
class Diag:
    where: str  # "FILE:LINE:COL", "PATH" or ""
    code: str
    rest: str
    line: str  # as printed


def diagnostics(run: Run) -> list[Diag]:
    """Every `error[PCnnn]` diagnostic of a run: the lines of stdout and stderr, and with
    `--format json` the `diagnostics` of its document (as the same headline)."""
    out: list[Diag] = []
    for text in (run.stdout, run.stderr):
        for line in text.splitlines():
            if "error[PC" in line:
                m = _DIAG.match(line.strip())
                if m:
                    out.append(
                        Diag(m.group("where") or "", m.group("code"), m.group("rest"), m.group(0))
                    )
    try:
        doc = json.loads(run.stdout) if run.stdout.lstrip().startswith("{") else None
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        for m in doc.get("models") or []:
            for d in (m.get("diagnostics") or []) if isinstance(m, dict) else []:
                line, col, file = d.get("line") or 0, d.get("column") or 0, d.get("file") or ""
                where = f"{file}:{line}:{col}" if line or col else "" if file == "<none>" else file
                rest = f"{d.get('key_path') or ''}: {d.get('message')}"
                out.append(
                    Diag(
                        where,
                        str(d.get("code")),
                        rest,
                        f"(json) {where}: error[{d.get('code')}]: {rest}",
                    )
                )
    return out


def _lines_in(path: Path) -> int | None:
    try:
        if not path.is_file() or path.stat().st_size > 50_000_000:
            return None
        text = path.read_bytes().decode("utf-8", "replace")
    except (OSError, ValueError):
        return None
    return max(len(text.splitlines()), text.count("\n"), text.count("\r")) + 1


def _check_diagnostic(d: Diag, workdir: Path) -> Problem | None:
    loc = _LOC.match(d.where)
    if loc:
        line, col = int(loc.group("line")), int(loc.group("col"))
        if line < 1 or col < 1:
            return Problem(f"error[{d.code}] with location line {line}, column {col}", d.line)
        n = _lines_in(workdir / loc.group("file"))
        if n is not None and line > n:
            return Problem(f"error[{d.code}] points past the end of its file", d.line)
        return None
    if _FILE_CODES.match(d.code):
        return Problem(f"error[{d.code}] without FILE:LINE:COL", d.line[:300])
    if d.where or _OPTION.search(d.rest):
        return None
    return Problem(f"error[{d.code}] names no path, location or option", d.line[:300])


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
        p = _check_diagnostic(d, workdir)
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
        if written and code == 128 + sig:  # README: a stopped run writes no report files
            name = signal.Signals(sig).name
            problems.append(Problem(f"output files written after {name}", ", ".join(written)))
        if code != 128 + sig and run.signal != sig:
            name = signal.Signals(sig).name
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
    return _unique(problems)


def _unique(problems: list[Problem]) -> list[Problem]:
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
    return _unique(problems)


@dataclass
class Result:
    """A case's runs and the problems the oracle found."""

    case: Case
    runs: list[Run]
    problems: list[Problem]

    @property
    def elapsed(self) -> float:
        return sum(r.elapsed for r in self.runs)


def execute(case: Case, workdir: Path, *, inprocess: bool = True) -> Result:
    """Materialize `case` in `workdir` (empty), run it and judge it. Runs in this process
    with CliRunner unless the case needs a real one (or `inprocess` is false)."""
    materialize(case, workdir)
    runs: list[Run] = []
    problems: list[Problem] = []
    try:
        for argv in case.runs():
            before = snapshot(argv, workdir)
            if case.process or not inprocess:
                run = run_process(argv, workdir, case.limit, case.send_signal)
            else:
                run = run_inprocess(argv, workdir, case.limit)
            runs.append(run)
            problems += check_run(case, run, workdir, before)
        if case.engines and len(runs) == 2 and not any(r.hang for r in runs):
            problems += check_engines(runs[0], runs[1])
    finally:
        release(case, workdir)
    return Result(case, runs, _unique(problems))


def report(result: Result, limit: int = 2500) -> str:
    """A failure for an assertion message: the problems, the reproducer, the output."""
    lines = [f"{p.cause}\n    {_excerpt(p.detail, 600)}" for p in result.problems]
    lines.append(result.case.describe(limit))
    for run in result.runs:
        tail = (run.stdout[-800:] + "\n" + run.stderr[-800:]).strip()
        lines.append(f"  exit {run.exit_code} in {run.elapsed:.2f} s; output tail:\n{tail}")
    return "\n".join(lines)


# ---------------------------------------------------------------- small valid models

COUNTER = """\
model: counter
doc: A counter that goes 0, 1, 2, 3 and back to 0.
params:
  P: 1
vars:
  x: {type: int, range: [0, 3]}
  flag: {type: bool}
actions:
  inc:
    when: x < 3
    do: {x: x + P}
    tags: [step]
  reset:
    when: x == 3
    do: {x: 0, flag: not flag}
    event: wrap
properties:
  bounded:
    invariant: x <= 3
  reaches-top:
    reachable: x == 3
  below-two:
    invariant: x < 2
    expect: violated
  no-step-at-top:
    never: tag:step
    when: x >= 3
  wraps:
    leads_to: {from: x == 3, to: reset}
    fair: [inc, reset]
"""

RICH = """\
model: rich-small
doc: Two CPUs, a preempt_count word with fields, an enum context, tasks and a remote request.
params:
  mode: {values: [none, voluntary, full, lazy, rt], default: full}
  MAXC: 2
cpus: 2
tasks: [A, B]
enums:
  ctx: [user, kernel, irq]
vars:
  pc:
    type: word
    bits: 8
    fields: {count: [0, 3], need_resched: [7, 1]}
    index: cpus
    init: 0x80
    role: preempt_count
  where: {type: enum, of: ctx, index: cpus, init: user}
  irqs_off: {type: bool, index: cpus, role: irqs_disabled}
  tif: {type: bool, index: tasks}
  curr: {type: enum, of: tasks, index: cpus, init: [A, B], role: current_task}
  n: {type: int, range: [0, 3]}
defs:
  atomic: pc.count != 0 or irqs_off
actions:
  enter_kernel:
    when: where == user
    do: {where: kernel}
  preempt_disable:
    when: where != user and pc.count < MAXC
    do: {pc.count: pc.count + 1}
    tags: [preempt_off]
  preempt_enable:
    when: pc.count > 0
    steps:
      - do: {pc.count: pc.count - 1}
      - if: pc.count == 0 and tif[curr] and mode != none
        do:
          tif[curr]: false
          n: min(n + 1, 3)
    tags: [schedule]
  remote_resched:
    for: {t: cpus}
    when: t != self and not tif[curr[t]]
    do:
      tif[curr[t]]: true
  irq_enter:
    irq: true
    when: not irqs_off and where != irq
    do: {irqs_off: true}
  irq_exit:
    on: 0
    when: irqs_off
    do: {irqs_off: false, where: kernel if where != user else user}
  might_sleep:
    when: where == kernel
    do: {n: n if n < 3 else 0}
    tags: [sleep]
  exit_user:
    when: where == kernel and pc.count == 0 and not irqs_off
    do: {where: user}
properties:
  count-bounded:
    invariant: pc.count <= MAXC
  no-sleep-in-atomic:
    doc: 'might_sleep() in atomic context: "BUG: sleeping function called from invalid context"'
    never: tag:sleep
    when: atomic
    expect: violated
  all-ctx:
    invariant: all(where[c] != irq for c in cpus)
  resched-reachable:
    reachable: any(tif[t] for t in tasks) and count(pc[c].count > 0 for c in cpus) == 2
  n-small:
    invariant: n < 3
    expect: violated
"""

VIOLATING = """\
model: violating
vars:
  x: {type: int, range: [0, 3]}
actions:
  inc:
    when: x < 3
    do: {x: x + 1}
  reset:
    when: x == 3
    do: {x: 0}
properties:
  below-two:
    invariant: x < 2
  top:
    reachable: x == 3
"""

BROKEN = """\
model: broken
vars:
  x: {type: int, range: [0, 3]}
actions:
  inc:
    do: {x: y + 1}
"""

PROPS = """\
doc: Extra properties for the counter.
properties:
  never-four:
    invariant: x != 4
"""

OK_SMALL = (TESTS / "fixtures" / "ok_small.yaml").read_text(encoding="utf-8")
OWN = {"counter": COUNTER, "rich": RICH, "ok-small": OK_SMALL, "violating": VIOLATING}


def slow_model(n: int) -> str:
    """Two counters over [0, n]: (n+1)^2 states, slow enough to interrupt."""
    return f"""\
model: slow
vars:
  x: {{type: int, range: [0, {n}]}}
  y: {{type: int, range: [0, {n}]}}
actions:
  incx:
    when: x < {n}
    do: {{x: x + 1}}
  incy:
    when: y < {n}
    do: {{y: y + 1}}
  back:
    when: x == {n} and y == {n}
    do: {{x: 0, y: 0}}
properties:
  diagonal:
    invariant: x + y < {2 * n}
    expect: violated
"""


def with_top(text: str, *lines: str) -> str:
    """`text` with more top-level `key: value` lines."""
    return text.rstrip("\n") + "\n" + "".join(line + "\n" for line in lines)


def q(value: str) -> str:
    """A YAML double-quoted scalar of any string (JSON is a subset of YAML's escapes)."""
    return json.dumps(value)


# ---------------------------------------------------------------- YAML-aware text mutations


@dataclass(frozen=True)
class Pair:
    path: str
    key: yaml.ScalarNode
    value: yaml.Node
    flow: bool


@dataclass(frozen=True)
class Tree:
    pairs: tuple[Pair, ...]
    scalars: tuple[tuple[str, yaml.ScalarNode], ...]  # every scalar value, with its path
    values: tuple[tuple[str, yaml.Node], ...]  # every value (mapping values, list items)


@lru_cache(maxsize=128)
def tree(text: str) -> Tree | None:
    """The located YAML nodes of `text` (BaseLoader: every scalar a string, as written)."""
    try:
        root = yaml.compose(text, Loader=yaml.BaseLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    if root is None:
        return None
    pairs: list[Pair] = []
    scalars: list[tuple[str, yaml.ScalarNode]] = []
    values: list[tuple[str, yaml.Node]] = []

    def walk(node: yaml.Node, path: str, depth: int) -> None:
        if depth > 60:
            return
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if not isinstance(k, yaml.ScalarNode):
                    continue
                p = f"{path}.{k.value}" if path else k.value
                pairs.append(Pair(p, k, v, bool(node.flow_style)))
                values.append((p, v))
                walk(v, p, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                values.append((f"{path}[{i}]", v))
                walk(v, f"{path}[{i}]", depth + 1)
        elif isinstance(node, yaml.ScalarNode) and path:
            scalars.append((path, node))

    walk(root, "", 0)
    return Tree(tuple(pairs), tuple(scalars), tuple(values))


def _end(text: str, node: yaml.Node) -> int:
    """Where `node`'s text ends, without the blank lines a block collection's mark includes."""
    start, end = node.start_mark.index, node.end_mark.index
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def replace_node(text: str, node: yaml.Node, new: str) -> str:
    return splice(text, [(node.start_mark.index, _end(text, node), new)])


def delete_pair(text: str, pair: Pair) -> str:
    s, e = pair.key.start_mark.index, _end(text, pair.value)
    if pair.flow:
        j = e
        while j < len(text) and text[j] in " \t\r\n":
            j += 1
        if j < len(text) and text[j] == ",":
            return text[:s] + text[j + 1 :].lstrip(" ")
        i = s
        while i > 0 and text[i - 1] in " \t\r\n":
            i -= 1
        if i > 0 and text[i - 1] == ",":
            s = i - 1
        return text[:s] + text[e:]
    ls = text.rfind("\n", 0, s) + 1
    le = text.find("\n", e)
    le = len(text) if le < 0 else le
    rest = text[e:le].strip()
    if not text[ls:s].strip() and (not rest or rest.startswith("#")):
        return text[:ls] + text[le + 1 :]
    return text[:s] + text[e:]


def duplicate_pair(text: str, pair: Pair) -> str:
    s, e = pair.key.start_mark.index, _end(text, pair.value)
    chunk = text[s:e]
    sep = ", " if pair.flow else "\n" + " " * pair.key.start_mark.column
    return text[:e] + sep + chunk + text[e:]


def near_miss(name: str, rng: random.Random) -> str:
    """A plausible typo of `name`."""
    if not name:
        return "x"
    i = rng.randrange(len(name))
    ops: list[Callable[[], str]] = [
        lambda: name[:i] + name[i + 1 :] or name + name,
        lambda: name[:i] + name[i] + name[i:],
        lambda: name[:i] + name[i + 1 : i + 2] + name[i : i + 1] + name[i + 2 :],
        lambda: name.swapcase(),
        lambda: name + "s",
        lambda: name.replace("_", "-") if "_" in name else name.replace("-", "_") + "_",
        lambda: name[:i] + rng.choice("aeiouxz") + name[i + 1 :],
    ]
    out = rng.choice(ops)()
    return out if out != name else name + "x"


HUGE_INT = "9" * 5001
ODD_VALUES = [
    "null",
    "~",
    "[]",
    "[1, 2]",
    "{}",
    "{a: 1}",
    "true",
    "false",
    "1.5",
    "-2.5e3",
    ".inf",
    "-.inf",
    ".nan",
    "-1",
    "-7",
    "0",
    "''",
    '""',
    HUGE_INT,
    "-" + HUGE_INT,
    "0x" + "f" * 64,
    "2147483648",
    "18446744073709551616",
    '"x"',
    "[[[]]]",
    "{a: {b: {c: []}}}",
    "!!binary aGVsbG8=",
    f"!!python/object/apply:pathlib.Path.touch [{MARKER}]",
    "!!set {a, b}",
    "!!timestamp 2001-12-14",
    "!!float 1",
    "!!str 1",
    "&a [1]",
    "*nowhere",
    "yes",
    "on",
    "0o17",
    "0b101",
    "1_000",
    "+5",
    "1e3",
    "'0x10'",
]


def _pick_pair(
    rng: random.Random, t: Tree, pred: Callable[[Pair], bool] | None = None
) -> Pair | None:
    pool = [p for p in t.pairs if pred is None or pred(p)]
    return rng.choice(pool) if pool else None


def struct_mutation(rng: random.Random, text: str) -> tuple[str, str] | None:
    """One structural mutation of a YAML file: (new text, what was done)."""
    t = tree(text)
    if t is None or not t.pairs:
        return None
    op = rng.choice(
        ["delete", "duplicate", "retype", "retype", "rename", "near-miss", "swap", "inject"]
    )
    if op == "delete":
        p = _pick_pair(rng, t)
        assert p
        return delete_pair(text, p), f"delete {p.path}"
    if op == "duplicate":
        p = _pick_pair(rng, t)
        assert p
        return duplicate_pair(text, p), f"duplicate {p.path}"
    if op == "retype":
        path, node = rng.choice(t.values)
        new = rng.choice(ODD_VALUES)
        return replace_node(text, node, new), f"{path} := {new[:40]}"
    if op == "rename":
        p = _pick_pair(rng, t)
        assert p
        new = near_miss(p.key.value, rng)
        return replace_node(
            text, p.key, q(new) if p.key.style else new
        ), f"rename {p.path} to {new}"
    if op == "near-miss":
        if not t.scalars:
            return None
        path, node = rng.choice(t.scalars)
        new = near_miss(node.value, rng)
        return replace_node(text, node, q(new)), f"{path}: {node.value[:30]!r} -> {new[:30]!r}"
    if op == "swap":
        pool = [(p, n) for p, n in t.values if isinstance(n, yaml.ScalarNode) or rng.random() < 0.2]
        if len(pool) < 2:
            return None
        (pa, a), (pb, b) = rng.sample(pool, 2)
        sa, ea, sb, eb = a.start_mark.index, _end(text, a), b.start_mark.index, _end(text, b)
        if not (ea <= sb or eb <= sa):
            return None
        return splice(text, [(sa, ea, text[sb:eb]), (sb, eb, text[sa:ea])]), f"swap {pa} and {pb}"
    return inject_string(rng, text)


# ---------------------------------------------------------------- payloads for generated source

IDENT_PAYLOADS = [
    "__class__",
    "__import__",
    "__builtins__",
    "__dict__",
    "__init__",
    "__name__",
    "_EvalErr",
    "_shl",
    "_ix",
    "_msg",
    "_oob",
    "HELPERS",
    "self",
    "None",
    "True",
    "False",
    "lambda",
    "import",
    "def",
    "class",
    "exec",
    "eval",
    "print",
    "open",
    "len",
    "range",
    "int",
    "s",
    "active",
    "cov",
    "succ",
    "events",
    "enabled",
    "v0",
    "A_x",
    "x_",
    "ß",
    "ǅ",
    "\u210c",  # NFKC: H
    "ﬁ",
    "µ",
    "\uff58",  # fullwidth x, NFKC: x
    "_",
    "__",
    "z3",
    "And",
    "If",
    "sys",
    "os",
    "cpus",
    "tasks",
]

STRING_PAYLOADS = [
    "a'b",
    'a"b',
    "a\nb",
    "a\\b",
    '"""',
    "'''",
    "{x}",
    "%s%(x)s",
    "\x00",
    "a\x00b",
    "\t",
    "\u2028",
    "\x85",
    "\x0c",
    "\r",
    "e\u0301",
    "😀",
    "\u202e",
    "",
    " ",
    "-",
    "tag:x",
    "x: y",
    "#",
    "*",
    "&a",
    "\ud800",
    "]]>",
    "<x/>",
    "&amp;",
    "\x1b[31m",
    "::error::",
    "%0A",
    f"__import__('pathlib').Path('{MARKER}').touch()",
    f"x'); __import__('pathlib').Path('{MARKER}').touch(); ('",
    f'x"); __import__("pathlib").Path("{MARKER}").touch(); ("',
    f"x\n__import__('pathlib').Path('{MARKER}').touch()\n",
    f"x\\\nimport pathlib; pathlib.Path('{MARKER}').touch()",
    f'"""); __import__(\'pathlib\').Path(\'{MARKER}\').touch(); ("""',
    f"{{__import__('pathlib').Path('{MARKER}').touch()}}",
    f"x' + __import__('pathlib').Path('{MARKER}').touch() + '",
    "A" * 100_000,
]

# where a model holds names and strings (a key under a section, or a value at a path)
_NAME_SECTIONS = ("actions", "properties", "vars", "defs", "params", "enums")
_STRING_PATH = re.compile(
    r"^(model|doc|tasks\[\d+\]|enums\.[^.]+\[\d+\]|.*\.doc|.*\.tags\[\d+\]|.*\.event(\[\d+\])?"
    r"|.*\.values\[\d+\]|.*\.role|.*\.fields\.[^.]+|.*\.of|.*\.fair\[\d+\]|.*\.never)$"
)


def inject_string(rng: random.Random, text: str) -> tuple[str, str] | None:
    """A name (a key of a section) or a string value replaced by a payload."""
    t = tree(text)
    if t is None:
        return None
    payload = rng.choice(STRING_PAYLOADS + IDENT_PAYLOADS)
    keys = [p for p in t.pairs if p.path.rpartition(".")[0] in _NAME_SECTIONS]
    strings = [(p, n) for p, n in t.scalars if _STRING_PATH.match(p)]
    if keys and (not strings or rng.random() < 0.5):
        p = rng.choice(keys)
        return replace_node(text, p.key, q(payload)), f"name {p.path} := {payload[:60]!r}"
    if not strings:
        return None
    path, node = rng.choice(strings)
    return replace_node(text, node, q(payload)), f"{path} := {payload[:60]!r}"


def declared_names(text: str) -> list[str]:
    """Names a model declares (sections' keys, enum values, tasks, tags, binding names)."""
    t = tree(text)
    if t is None:
        return []
    names: list[str] = []
    for p in t.pairs:
        parent = p.path.rpartition(".")[0]
        if parent in _NAME_SECTIONS or parent.endswith((".fields", ".for")) or parent == "for":
            names.append(p.key.value)
    for path, node in t.scalars:
        if re.match(r"^(tasks|enums\.[^.]+|.*\.values|.*\.tags)\[\d+\]$", path):
            names.append(node.value)
    return [n for n in dict.fromkeys(names) if re.fullmatch(r"[A-Za-z_][\w-]*", n)]


def rename_everywhere(text: str, old: str, new: str) -> str:
    """Every whole-word use of `old` (keys, values, expressions, selectors) becomes `new`."""
    return re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", lambda _: new, text)


# ---------------------------------------------------------------- semantic mutations

_EXPR_PATH = re.compile(
    r"(^|\.)(when|if|invariant|reachable|from|to)$|\.do\.|^defs\.[^.]+$|\.within$"
)
_OPS = {
    "<=": ["<", ">="],
    ">=": [">", "<="],
    "==": ["!="],
    "!=": ["=="],
    "<<": [">>"],
    ">>": ["<<"],
    "//": ["%", "*"],
    "<": ["<=", ">"],
    ">": [">=", "<"],
    "+": ["-"],
    "-": ["+"],
    "*": ["+"],
    "%": ["//"],
    "&": ["|"],
    "|": ["&", "^"],
    "^": ["|"],
    "and": ["or"],
    "or": ["and"],
    "not ": [""],
    "any": ["all"],
    "all": ["any"],
    "min": ["max"],
    "max": ["min"],
    " in ": [" not in "],
}
_OP_RE = re.compile(
    r"<=|>=|==|!=|<<|>>|//|<|>|\+|-|\*|%|&|\||\^|\band\b|\bor\b|\bnot |\bany\b"
    r"|\ball\b|\bmin\b|\bmax\b| in "
)
_CONST_RE = re.compile(r"(?<![\w.])(0x[0-9a-fA-F]+|0b[01]+|\d+|true|false)(?![\w.])")


def _in_scalar(text: str, node: yaml.ScalarNode, rx: re.Pattern[str]) -> list[re.Match[str]]:
    s, e = node.start_mark.index, _end(text, node)
    return [m for m in rx.finditer(text, s, e)]


def semantic_mutation(rng: random.Random, text: str) -> tuple[str, str] | None:
    """A small change of meaning: an operator, a constant, a guard or an assignment."""
    t = tree(text)
    if t is None:
        return None
    exprs = [(p, n) for p, n in t.scalars if _EXPR_PATH.search(p)]
    op = rng.choice(["operator", "operator", "constant", "constant", "guard", "assignment"])
    if op == "operator":
        hits = [(p, m) for p, n in exprs for m in _in_scalar(text, n, _OP_RE)]
        if not hits:
            return None
        path, m = rng.choice(hits)
        new = rng.choice(_OPS[m.group(0)] if m.group(0) in _OPS else [m.group(0)])
        return splice(text, [(m.start(), m.end(), new)]), f"{path}: {m.group(0)!r} -> {new!r}"
    if op == "constant":
        pool = exprs if rng.random() < 0.7 else list(t.scalars)
        hits = [(p, m) for p, n in pool for m in _in_scalar(text, n, _CONST_RE)]
        if not hits:
            return None
        path, m = rng.choice(hits)
        old = m.group(0)
        if old in ("true", "false"):
            new = "false" if old == "true" else "true"
        else:
            v = int(old, 0)
            new = str(rng.choice([v + 1, max(v - 1, 0), 0, 1, v * 2, v + 2]))
            if new == old:
                new = str(v + 1)
        return splice(text, [(m.start(), m.end(), new)]), f"{path}: {old} -> {new}"
    if op == "guard":
        guards = [(p, n) for p, n in exprs if re.search(r"(^|\.)(when|if)$", p)]
        if not guards:
            return None
        path, node = rng.choice(guards)
        raw = text[node.start_mark.index : _end(text, node)]
        choice = rng.choice(["true", "false", "negate", "drop"])
        if choice == "drop":
            pair = next(p for p in t.pairs if p.value is node)
            return delete_pair(text, pair), f"{path}: dropped"
        if choice == "negate":
            if raw[:1] in "'\"":
                new = f"{raw[0]}not ({raw[1:-1]}){raw[-1]}"
            elif raw[:1] in "|>":
                new = "true"
            else:
                new = f"not ({raw})"
        else:
            new = choice
        return replace_node(text, node, new), f"{path}: {raw[:50]!r} -> {new[:60]!r}"
    assigns = [(p, n) for p, n in exprs if ".do." in p]
    if not assigns:
        return None
    path, node = rng.choice(assigns)
    target = path.rpartition(".do.")[2]
    choice = rng.choice(["self", "const", "other", "drop"])
    if choice == "drop":
        pair = next(p for p in t.pairs if p.value is node)
        return delete_pair(text, pair), f"{path}: assignment dropped"
    if choice == "self":
        new = target
    elif choice == "const":
        new = rng.choice(["0", "1", "true", "false"])
    else:
        _, other = rng.choice(assigns)
        new = text[other.start_mark.index : _end(text, other)]
    return replace_node(text, node, new), f"{path}: -> {new[:60]!r}"


# ---------------------------------------------------------------- generators, one per class

Gen = Callable[[random.Random, int], Case]
KINDS: dict[str, Gen] = {}


def kind(name: str) -> Callable[[Gen], Gen]:
    def register(fn: Gen) -> Gen:
        KINDS[name] = fn
        return fn

    return register


def generate(kind_name: str, seed: int) -> Case:
    """The case `seed` of class `kind_name`: the same on every run and machine."""
    return KINDS[kind_name](random.Random(f"{kind_name}:{seed}"), seed)


SEED_BLOCK = 1_000_000  # a campaign with --seed S draws seeds S * SEED_BLOCK + i


def _nth(seed: int) -> int:
    """The case's place in its block: the first ones of each block are the fixed variants."""
    return seed % SEED_BLOCK


def _variant(seed: int, n: int, rng: random.Random) -> int:
    """The first n seeds of a block take every variant once, in order; later ones draw one."""
    return _nth(seed) if _nth(seed) < n else rng.randrange(n)


def _bundled_base(rng: random.Random) -> tuple[dict[str, str | bytes], str, str]:
    """(files, the file to mutate, the model to verify) over a copy of the bundled models."""
    files: dict[str, str | bytes] = dict(BUNDLED)
    mutate = rng.choice(sorted(BUNDLED))
    if mutate in ("models/_base.yaml", "properties/core.yaml"):
        target = rng.choice([*MODE_FILES, "models/_base.yaml"])
    elif mutate == "properties/latency.yaml":
        target = "models/latency.yaml"
    else:
        target = mutate
    return files, mutate, target


def _own_base(rng: random.Random) -> tuple[dict[str, str | bytes], str, str]:
    name = rng.choice(sorted(OWN))
    files: dict[str, str | bytes] = {"model.yaml": OWN[name]}
    if rng.random() < 0.2:
        files["model.yaml"] = (
            with_top(OWN[name], "check: [props.yaml]") if name == "counter" else OWN[name]
        )
        files["props.yaml"] = PROPS
    return files, "model.yaml", "model.yaml"


def _extra_options(rng: random.Random, target: str) -> list[str]:
    extra: list[str] = []
    r = rng.random() if target not in HEAVY else 1.0
    if r < 0.12:
        extra += ["--engine", "symbolic", "--bound", "3", "--rlimit", "2000000"]
    elif r < 0.16:
        extra += ["--engine", "auto", "--max-states", "500", "--bound", "3", "--rlimit", "2000000"]
    for p, opts in (
        (0.2, ["--format", "json"]),
        (0.05, ["--format", "markdown"]),
        (0.1, ["--traces", "all"]),
        (0.1, ["--junit", "out/junit.xml"]),
        (0.1, ["--sarif", "out/log.sarif"]),
        (0.1, ["--trace-dir", "out/traces"]),
        (0.05, ["--strict"]),
        (0.05, ["--fail-fast"]),
        (0.05, ["--symmetry"]),
    ):
        if rng.random() < p:
            extra += opts
    if rng.random() < 0.05 and "_base" in target:
        extra += ["--all-modes", "--max-states", "800"]
    return extra


@kind("structural")
def _structural(rng: random.Random, seed: int) -> Case:
    """Delete, duplicate, retype, rename, swap or inject in a bundled or small model."""
    files, mutate, target = _bundled_base(rng) if rng.random() < 0.7 else _own_base(rng)
    text = str(files[mutate])
    done = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        out = struct_mutation(rng, text)
        if out:
            text, what = out
            done.append(what)
    files[mutate] = text
    argv = [
        "verify",
        target,
        "--max-states",
        "3000",
        "--timeout",
        "8",
        *_extra_options(rng, target),
    ]
    return Case("structural", seed, f"{mutate}: " + "; ".join(done), argv, files, limit=20)


@kind("inject")
def _inject(rng: random.Random, seed: int) -> Case:
    """Names and strings that try to reach the generated Python source."""
    if rng.random() < 0.3:
        files, mutate, target = _bundled_base(rng)
        if rng.random() < 0.6:
            mutate = target = rng.choice([*RACES, "models/full.yaml"])
            if target == "models/full.yaml":
                mutate = "models/_base.yaml"
    else:
        files, mutate, target = _own_base(rng)
    text = str(files[mutate])
    r = rng.random()
    names = declared_names(text)
    if r < 0.45 and names:
        old = rng.choice(names)
        new = rng.choice(IDENT_PAYLOADS)
        text = rename_everywhere(text, old, new)
        label = f"{mutate}: {old} renamed {new!r} everywhere"
    elif r < 0.55 and names:
        old = rng.choice(names)
        new = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in old)  # fullwidth
        text = rename_everywhere(text, old, new)
        label = f"{mutate}: {old} renamed to its fullwidth twin {new!r}"
    else:
        out = inject_string(rng, text)
        text, label = out if out else (text, "no slot")
        label = f"{mutate}: {label}"
    files[mutate] = text
    argv = ["verify", target, "--max-states", "3000", "--timeout", "8"]
    if rng.random() < 0.15 and target not in HEAVY:
        argv += ["--engine", "symbolic", "--bound", "3", "--rlimit", "2000000"]
    for p, opts in (
        (0.3, ["--format", "json"]),
        (0.1, ["--format", "markdown"]),
        (0.3, ["--junit", "out/j.xml"]),
        (0.3, ["--sarif", "out/s.sarif"]),
        (0.3, ["--trace-dir", "traces"]),
        (0.2, ["--traces", "all"]),
    ):
        if rng.random() < p:
            argv += opts
    process = False
    if rng.random() < 0.2:
        # no NUL: a command line cannot carry one
        payload = rng.choice([p for p in STRING_PAYLOADS[:30] + IDENT_PAYLOADS if "\x00" not in p])
        if any("\ud800" <= c <= "\udfff" for c in payload):
            # what a real command line can carry: bytes that are not UTF-8
            payload = payload.encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape")
            process = True
        opt = rng.choice(["--property", "--set", "--mode"])
        value = f"P={payload}" if opt == "--set" else payload
        argv += [opt, value]
        label += f"; {opt} {value[:40]!r}"
    return Case("inject", seed, label, argv, files, process=process, limit=20)


FLOATS = [
    ".inf",
    "-.inf",
    "+.inf",
    ".nan",
    ".NaN",
    ".Inf",
    "1e999",
    "-1e999",
    "-0.0",
    "0.5",
    "1.0",
    "3.0",
    "1e-300",
    "2.5e1",
    ".5",
    "1e3",
]


@kind("float")
def _float(rng: random.Random, seed: int) -> Case:
    """`.inf` / `.nan` and other floats anywhere: scalars, expressions, --set."""
    files, mutate, target = _bundled_base(rng) if rng.random() < 0.4 else _own_base(rng)
    text = str(files[mutate])
    if _nth(seed) == 0:
        files, mutate, target = (
            {
                "model.yaml": with_top(COUNTER, "doc: .inf").replace(
                    "doc: A counter that goes 0, 1, 2, 3 and back to 0.\n", ""
                )
            },
            "model.yaml",
            "model.yaml",
        )
        return Case("float", seed, "doc: .inf", ["verify", "model.yaml"], files)
    t = tree(text)
    assert t is not None
    done = []
    for _ in range(rng.choice([1, 1, 2])):
        value = rng.choice(FLOATS)
        where = rng.random()
        if where < 0.6:
            path, node = rng.choice(t.values if rng.random() < 0.3 else t.scalars)
            text = replace_node(text, node, value)
            done.append(f"{path} := {value}")
        else:
            exprs = [(p, n) for p, n in t.scalars if _EXPR_PATH.search(p)]
            hits = [(p, m) for p, n in exprs for m in _in_scalar(text, n, _CONST_RE)]
            if hits:
                path, m = rng.choice(hits)
                lit = value.lstrip("+").replace(".inf", "1e999").replace(".nan", "1e999 - 1e999")
                lit = lit.replace(".NaN", "0.0").replace(".Inf", "1e999")
                text = splice(text, [(m.start(), m.end(), lit)])
                done.append(f"{path}: {m.group(0)} -> {lit}")
        t = tree(text) or t
    files[mutate] = text
    argv = ["verify", target, "--max-states", "3000", "--timeout", "8"]
    if rng.random() < 0.3:
        argv += ["--format", "json"]
    if rng.random() < 0.2:
        argv += ["--set", f"{rng.choice(['P', 'MAXNEST', 'MAXC', 'mode'])}={rng.choice(FLOATS)}"]
        done.append(" ".join(argv[-2:]))
    if rng.random() < 0.1 and target not in HEAVY:
        argv += ["--engine", "symbolic", "--bound", "3", "--rlimit", "2000000"]
    return Case("float", seed, f"{mutate}: " + "; ".join(done), argv, files, limit=20)


def _chain(depth: int) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {"chain/c0.yaml": COUNTER}
    for i in range(1, depth + 1):
        files[f"chain/c{i}.yaml"] = f"model: c{i}\nextends: c{i - 1}.yaml\n"
    return files


def _diamond(depth: int) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {"d/base.yaml": COUNTER}
    for i in range(depth):
        nxt = [f"l{i + 1}a.yaml", f"l{i + 1}b.yaml"] if i + 1 < depth else ["base.yaml"]
        for side in "ab":
            files[f"d/l{i}{side}.yaml"] = f"model: l{i}{side}\nextends: [{', '.join(nxt)}]\n"
    files["d/top.yaml"] = "model: top\nextends: [l0a.yaml, l0b.yaml]\n"
    return files


@kind("paths")
def _paths(rng: random.Random, seed: int) -> Case:
    """NUL bytes, long names, symlink loops, deep and wide `extends`, odd files and names."""
    v = _variant(seed, 26, rng)
    m = "m.yaml"
    base: dict[str, str | bytes] = {"base.yaml": COUNTER, "props.yaml": PROPS}
    long_name = "a" * rng.choice([256, 300, 1000, 4096]) + ".yaml"
    deep_path = "/".join(["d" * 200] * rng.choice([21, 25, 40])) + "/x.yaml"

    def case(
        label: str, files: dict[str, str | bytes], argv: list[str] | None = None, **kw: Any
    ) -> Case:
        return Case(
            "paths",
            seed,
            label,
            argv or ["verify", m, "--max-states", "3000"],
            {**base, **files},
            **kw,
        )

    if v == 0:
        return case(
            "NUL byte in extends",
            {m: with_top("model: m", f"extends: {q('base' + chr(0) + '.yaml')}")},
        )
    if v == 1:
        return case(
            "NUL byte in check", {m: with_top(COUNTER, f"check: [{q('props.yaml' + chr(0))}]")}
        )
    if v == 2:
        return case(
            "NUL byte in a list of extends",
            {m: with_top("model: m", f"extends: [base.yaml, {q(chr(0))}]")},
        )
    if v == 3:
        return case(
            "path component over 255 bytes in extends",
            {m: with_top("model: m", f"extends: {long_name}")},
        )
    if v == 4:
        return case(
            "path component over 255 bytes in check",
            {m: with_top(COUNTER, f"check: [{long_name}]")},
        )
    if v == 5:
        return case("path component over 255 bytes on the command line", {}, ["verify", long_name])
    if v == 6:
        where = rng.choice(["extends", "argv"])
        if where == "argv":
            return case("path over PATH_MAX on the command line", {}, ["verify", deep_path])
        return case(
            "path over PATH_MAX in extends", {m: with_top("model: m", f"extends: {deep_path}")}
        )
    if v == 7:
        return case(
            "symlink loop as the model",
            {},
            ["verify", "loop1.yaml"],
            symlinks={"loop1.yaml": "loop2.yaml", "loop2.yaml": "loop1.yaml"},
        )
    if v == 8:
        return case(
            "symlink loop as extends",
            {m: with_top("model: m", "extends: loop1.yaml")},
            symlinks={"loop1.yaml": "loop2.yaml", "loop2.yaml": "loop1.yaml"},
        )
    if v == 9:
        return case(
            "symlink loop as check",
            {m: with_top(COUNTER, "check: [self.yaml]")},
            symlinks={"self.yaml": "self.yaml"},
        )
    if v == 10:
        return case(
            "self-referencing directory link in the extends path",
            {m: with_top("model: m", "extends: d/d/d/x.yaml")},
            symlinks={"d": "d"},
        )
    if v == 11:
        links = {f"l{i}.yaml": f"l{i + 1}.yaml" for i in range(60)}
        return case(
            "a chain of 60 symlinks as the model",
            {"l60.yaml": COUNTER},
            ["verify", "l0.yaml"],
            symlinks=links,
        )
    if v == 12:
        return case(
            "extends chain 300 files deep",
            _chain(300),
            ["verify", "chain/c300.yaml"],
            expect=(0,),
            limit=30,
        )
    if v == 13:
        return case(
            "extends chain 1,500 files deep", _chain(1500), ["verify", "chain/c1500.yaml"], limit=30
        )
    if v == 14:
        n = rng.randint(990, 1010)
        return case(
            f"extends chain {n} files deep", _chain(n), ["verify", f"chain/c{n}.yaml"], limit=30
        )
    if v == 15:
        depth = rng.choice([20, 30, 40])
        return case(
            f"extends diamond lattice {depth} levels deep",
            _diamond(depth),
            ["verify", "d/top.yaml"],
            limit=15,
        )
    if v == 16:
        return case(
            "extends the same file 500 times",
            {m: with_top("model: m", f"extends: [{', '.join(['base.yaml'] * 500)}]")},
        )
    if v == 17:
        return case(
            "check the same file 500 times",
            {m: with_top(COUNTER, f"check: [{', '.join(['props.yaml'] * 500)}]")},
        )
    if v == 18:
        how = rng.choice(["./m.yaml", "alias.yaml", "sub/../m.yaml", "./././m.yaml"])
        return case(
            f"extends itself via {how}",
            {m: with_top(COUNTER, f"extends: {how}"), "sub/x": ""},
            symlinks={"alias.yaml": "m.yaml"},
        )
    if v == 19:
        target = rng.choice(
            [".", "''", "/", "~", "7", "[[base.yaml]]", "{a: b}", "sub", "sub/", "true"]
        )
        return case(
            f"extends: {target}",
            {m: with_top("model: m", f"extends: {target}"), "sub/x.yaml": COUNTER},
        )
    if v == 20:
        target = rng.choice(
            [
                "/etc/passwd",
                "/proc/self/status",
                "/proc/self/mem",
                "/proc/self/cmdline",
                "/etc",
                "/proc/self/fd",
                "/sys/kernel/mm/transparent_hugepage/enabled",
            ]
        )
        key = rng.choice(["extends", "check"])
        text = (
            with_top("model: m", f"extends: {target}")
            if key == "extends"
            else with_top(COUNTER, f"check: [{target}]")
        )
        return case(f"{key}: {target}", {m: text}, process=True)
    if v == 21:
        contents: list[tuple[str, str | bytes]] = [
            ("invalid UTF-8", COUNTER.encode() + b"\n# \xff\xfe\x80\n"),
            ("UTF-8 BOM", b"\xef\xbb\xbf" + COUNTER.encode()),
            ("UTF-16 with BOM", COUNTER.encode("utf-16")),
            ("NUL bytes inside", COUNTER.encode().replace(b"doc:", b"doc: \x00")),
            ("empty", b""),
            ("only comments", b"# nothing\n# here\n"),
            ("two documents", (COUNTER + "---\n" + COUNTER).encode()),
            ("CRLF line ends", COUNTER.replace("\n", "\r\n").encode()),
            ("CR line ends", COUNTER.replace("\n", "\r").encode()),
            (
                "form feeds and vertical tabs",
                COUNTER.replace("\n", "\n\x0c", 3).replace("x < 3", "x <\x0b3").encode(),
            ),
            ("U+2028 in an expression", COUNTER.replace("x < 3", "x <\u20283").encode()),
            ("NEL line ends", COUNTER.replace("\n", "\x85").encode()),
            ("a tab indent", COUNTER.replace("  x:", "\tx:").encode()),
            (
                "a lone surrogate",
                COUNTER.replace("counter", "c\ud800").encode("utf-8", "surrogatepass"),
            ),
            ("2 MB of comments", (COUNTER + ("#" * 1000 + "\n") * 2000).encode()),
        ]
        what, content = contents[rng.randrange(len(contents))]
        return case(f"model file: {what}", {m: content})
    if v == 22:
        names = [
            "a\nb.yaml",
            "m.yaml:3:4",
            "-x.yaml",
            "a b.yaml",
            "ünï.yaml",
            ".yaml",
            " .yaml",
            "\udcff\udcfe.yaml",
            "x.YAML",
            "a'b\".yaml",
            "$(touch PWNED).yaml",
            "m.yaml ",
            "~.yaml",
        ]
        name = rng.choice(names)
        argv = ["verify", name] if not name.startswith("-") else ["verify", "--", name]
        return case(
            f"model file named {name!r}",
            {name: BROKEN if rng.random() < 0.5 else COUNTER},
            argv,
            process="\udcff" in name,
        )
    if v == 23:
        pattern = rng.choice(
            [
                "[a].yaml",
                "*.yaml",
                "**",
                "**/*.yaml",
                "m.yaml[",
                "{a,b}.yaml",
                "?.yaml",
                "[!m]*.yaml",
                "[",
                "***",
            ]
        )
        return case(
            f"glob {pattern!r}",
            {"[a].yaml": COUNTER, "a.yaml": BROKEN},
            ["verify", pattern, "--max-states", "3000"],
        )
    if v == 24:
        props = rng.choice(
            [
                "model: p\nvars: {y: {type: bool}}\n",
                "- 1\n- 2\n",
                "doc: p\nextends: base.yaml\n",
                "doc: p\nproperties: {a: {invariant: nope}}\n",
                "doc: p\nunknown: 1\n",
                COUNTER,
                "doc: p\ncheck: [props2.yaml]\n",
                "properties:\n  bounded:\n    invariant: x < 9\n",
            ]
        )
        return case("an odd check file", {m: with_top(COUNTER, "check: [p.yaml]"), "p.yaml": props})
    where = rng.choice(["extends", "check", "argv"])
    name = rng.choice(
        ["a\nb.yaml", "a'b.yaml", '"""', "{x}.yaml", "-x.yaml", "x:1:2.yaml", ".yaml"]
    )
    if where == "argv":
        return case(
            f"odd path {name!r} on the command line", {name: COUNTER}, ["verify", "--", name]
        )
    text = (
        with_top("model: m", f"extends: {q(name)}")
        if where == "extends"
        else with_top(COUNTER, f"check: [{q(name)}]")
    )
    return case(
        f"{where} names the file {name!r}",
        {m: text, name: COUNTER if where == "extends" else PROPS},
    )


DEVICES = [
    "/dev/zero",
    "/dev/full",
    "/dev/urandom",
    "fifo.yaml",
    "/dev/null",
    "/dev/stdin",
    "/proc/self/fd/0",
    "sock.yaml",
    "/dev/tty",
    "zero-link.yaml",
]


@kind("devices")
def _devices(rng: random.Random, seed: int) -> Case:
    """/dev/zero, /dev/full, /dev/urandom, a FIFO, a socket, ... as the model, extends or check."""
    v = _variant(seed, len(DEVICES) * 3, rng)
    device, position = DEVICES[v // 3], ["model", "extends", "check"][v % 3]
    files: dict[str, str | bytes] = {}
    if position == "model":
        argv = ["verify", device]
    elif position == "extends":
        files["m.yaml"] = with_top("model: m", f"extends: {device}")
        argv = ["verify", "m.yaml"]
    else:
        files["m.yaml"] = with_top(COUNTER, f"check: [{device}]")
        argv = ["verify", "m.yaml"]
    if rng.random() < 0.3:
        argv += ["--junit", "out/j.xml", "--sarif", "out/s.sarif"]
    return Case(
        "devices",
        seed,
        f"{device} as {position}",
        argv,
        files,
        fifos=["fifo.yaml"] if device == "fifo.yaml" else [],
        sockets=["sock.yaml"] if device == "sock.yaml" else [],
        symlinks={"zero-link.yaml": "/dev/zero"} if device == "zero-link.yaml" else {},
        process=True,
        limit=15,
    )


def _walk_tree(rng: random.Random, *, unreadable: bool) -> tuple[Case, list[str]]:
    files: dict[str, str | bytes] = {"tree/good.yaml": COUNTER}
    symlinks: dict[str, str] = {}
    fifos: list[str] = []
    sockets: list[str] = []
    dirs: list[str] = []
    chmods: dict[str, int] = {}
    parts: list[str] = []
    menu = [
        "bad",
        "deep",
        "dirloop",
        "updirloop",
        "dangling",
        "selfloop",
        "dirnamedyaml",
        "partial",
        "hidden",
        "linktodir",
        "fifo",
        "zero",
        "socket",
        "nonutf8",
        "empty",
        "many",
        "emptydir",
    ]
    if unreadable:
        menu = ["lockeddir", "lockedfile", "lockedextends", "lockedcheck", "lockeddeep"] * 3 + menu
    for what in rng.sample(menu, rng.randint(2, 6)):
        parts.append(what)
        if what == "bad":
            files["tree/bad.yaml"] = BROKEN
        elif what == "deep":
            files["tree/" + "/".join(["s"] * rng.choice([10, 60, 150])) + "/m.yaml"] = COUNTER
        elif what == "dirloop":
            symlinks["tree/loop"] = "."
        elif what == "updirloop":
            symlinks["tree/a/b"] = "../.."
        elif what == "dangling":
            symlinks["tree/dangling.yaml"] = "missing.yaml"
        elif what == "selfloop":
            symlinks["tree/self.yaml"] = "self.yaml"
        elif what == "dirnamedyaml":
            files["tree/dir.yaml/m.yaml"] = COUNTER
        elif what == "partial":
            files["tree/_partial/m.yaml"] = BROKEN
        elif what == "hidden":
            files["tree/.hidden/m.yaml"] = BROKEN
        elif what == "linktodir":
            symlinks["tree/link.yaml"] = "."
        elif what == "fifo":
            fifos.append("tree/fifo.yaml")
        elif what == "zero":
            symlinks["tree/zero.yaml"] = "/dev/zero"
        elif what == "socket":
            sockets.append("tree/sock.yaml")
        elif what == "nonutf8":
            files["tree/\udcff.yaml"] = COUNTER
        elif what == "empty":
            files["tree/empty.yaml"] = ""
        elif what == "many":
            for i in range(rng.choice([10, 40])):
                files[f"tree/many/m{i}.yaml"] = VIOLATING if i % 3 else COUNTER
        elif what == "emptydir":
            dirs.append("tree/nothing")
        elif what == "lockeddir":
            files["tree/locked/m.yaml"] = COUNTER
            chmods["tree/locked"] = 0
        elif what == "lockedfile":
            files["tree/locked.yaml"] = COUNTER
            chmods["tree/locked.yaml"] = 0
        elif what == "lockedextends":
            files["tree/ext.yaml"] = with_top("model: ext", "extends: hidden/base.yaml")
            files["tree/hidden/base.yaml"] = COUNTER
            chmods["tree/hidden"] = 0
        elif what == "lockedcheck":
            files["tree/chk.yaml"] = with_top(COUNTER, "check: [p.yaml]")
            files["tree/p.yaml"] = PROPS
            chmods["tree/p.yaml"] = 0
        elif what == "lockeddeep":
            files["tree/a1/a2/a3/m.yaml"] = COUNTER
            chmods["tree/a1/a2"] = 0o100  # search, no read
    case = Case("walk", 0, "", [], files, symlinks, fifos, sockets, dirs, chmods)
    return case, parts


@kind("walk")
def _walk(rng: random.Random, seed: int) -> Case:
    """`verify DIR`-like walks over loops, special files, partials, deep and odd trees."""
    case, parts = _walk_tree(rng, unreadable=False)
    args = rng.choice(
        [
            ["tree"],
            ["tree/"],
            ["tree/**/*.yaml"],
            ["tree/*"],
            ["."],
            ["tree", "tree/good.yaml"],
            ["tree/s/.."],
            ["tree/**"],
            ["tree", "tree"],
        ]
    )
    case.kind, case.seed = "walk", seed
    case.argv = ["verify", *args, "--max-states", "2000", "--traces", "none"]
    case.label = f"verify {' '.join(args)} over a tree with {', '.join(parts)}"
    case.process = bool(case.fifos) or "tree/zero.yaml" in case.symlinks or "nonutf8" in parts
    case.limit = 20
    loops = [p for p in parts if p in ("dirloop", "updirloop", "linktodir")]
    case.hang_group = f"verify {' '.join(args)}" + (
        f" through {len(loops)} directory symlink loop(s)" if loops else ""
    )
    return case


@kind("unreadable")
def _unreadable(rng: random.Random, seed: int) -> Case:
    """Walks and loads that meet chmod 000 folders and files (meaningless as root)."""
    case, parts = _walk_tree(rng, unreadable=True)
    if not case.chmods:
        case.files["tree/locked/m.yaml"] = COUNTER
        case.chmods["tree/locked"] = 0
        parts.append("lockeddir")
    args = rng.choice(
        [
            ["tree"],
            ["tree/**/*.yaml"],
            ["."],
            ["tree/locked/m.yaml"],
            ["tree/locked.yaml"],
            ["tree/ext.yaml"],
            ["tree/chk.yaml"],
        ]
    )
    case.kind, case.seed = "unreadable", seed
    case.argv = ["verify", *args, "--max-states", "2000", "--traces", "none"]
    if rng.random() < 0.3:
        case.dirs.append("ro")
        case.chmods["ro"] = 0o555
        case.argv += rng.choice(
            [["--junit", "ro/j.xml"], ["--sarif", "ro/s.sarif"], ["--trace-dir", "ro/t"]]
        )
        parts.append("read-only output folder")
    case.label = f"verify {' '.join(args)} over a tree with {', '.join(parts)}"
    case.process = bool(case.fifos) or "tree/zero.yaml" in case.symlinks or "nonutf8" in parts
    case.needs_unreadable = True
    case.limit = 20
    return case


PARAM_DECLS = [
    "mode: []",
    "mode: {values: []}",
    "mode: {}",
    "mode: bogus",
    "mode: {values: [full, full]}",
    "mode: {values: [FULL]}",
    "mode: {values: [full], default: lazy}",
    "mode: null",
    "P: []",
    "P: {}",
    "P: {values: []}",
    "P: {values: [], default: 1}",
    "P: {values: [1, 2], default: 3}",
    "P: {default: 1}",
    "P: {values: [1, true, x]}",
    "P: {values: [[1]]}",
    "P: {values: {a: 1}}",
    "P: {values: [1, 1]}",
    "P: {values: [1, 2], sweep: yes}",
    "P: {values: [1, 2], sweep: 7}",
    "P: {values: [1, 2], default: 1, extra: 1}",
    "P: null",
    "P: ~",
    "P: ''",
    "P: -1",
    "P: 0",
    "P: 100000",
    "P: 1.5",
    "P: .nan",
    "P: x",
    "P: true",
    "P: {values: [0, 1, 2, 3], sweep: true}",
    "P: {values: [" + ", ".join(map(str, range(1, 201))) + "], sweep: true}",
    "P: {values: " + HUGE_INT + "}",
    "P: {values: [1, 2], default: [1]}",
    "P: {values: [a, b], default: a}",
    "P: [1, 2]",
    "P: {values: [-5, 5], default: -5}",
    "self: 1",
    "cpus: 2",
    "true: 1",
    "x: 1",
    "P: 1\n  p: 2",
    "P: 1\n  P: 2",
    "'': 1",
    "P: {values: [1, 2]}\n  Q: {values: [3, 4]}",
    "P: {values: ["
    + ", ".join(map(str, range(64)))
    + "], sweep: true}\n  Q: {values: [1, 2, 3], sweep: true}",
]
PARAM_USES = [
    ("cpus", "cpus: P"),
    ("range", "  y: {type: int, range: [0, P]}"),
    ("bits", "  w: {type: word, bits: P}"),
    ("index", "  a: {type: bool, index: [0, P]}"),
    ("init", "  z: {type: int, range: [0, 3], init: P}"),
    ("expr", None),
    ("none", None),
    ("for", None),
]
SET_VALUES = [
    "1",
    "0",
    "-1",
    "2",
    "x",
    "",
    "1,2",
    "1,,2",
    ",",
    "true",
    "0x10",
    "1e3",
    ".inf",
    "nan",
    HUGE_INT,
    "1,2,3,4,5,6,7,8",
    "full",
    "none,lazy",
    "'1'",
    "[1]",
    "{}",
    " 1 ",
    "1=2",
]


@kind("params")
def _params(rng: random.Random, seed: int) -> Case:
    """Empty and odd param declarations, params in declarations, odd --set/--mode values."""
    v = _variant(seed, len(PARAM_DECLS), rng)
    decl = PARAM_DECLS[v]
    use, line = (
        PARAM_USES[rng.randrange(len(PARAM_USES))]
        if _nth(seed) >= len(PARAM_DECLS)
        else ("none", None)
    )
    text = COUNTER.replace("params:\n  P: 1\n", f"params:\n  {decl}\n")
    if use == "cpus":
        text = with_top(text, line)
    elif line:
        text = text.replace("vars:\n", f"vars:\n{line}\n", 1)
    elif use == "expr":
        text = text.replace("x < 3", "x < P and P >= 0")
    elif use == "for":
        text = text.replace(
            "  reset:\n", "  jump:\n    for: {i: [0, P]}\n    do: {x: i % 4}\n  reset:\n"
        )
    argv = ["verify", "m.yaml", "--max-states", "3000", "--timeout", "8"]
    if rng.random() < 0.5 and _nth(seed) >= 5:
        name = rng.choice(["P", "mode", "Q", "p", "x", "", "P ", "=P"])
        argv += rng.choice(
            [
                ["--set", f"{name}={rng.choice(SET_VALUES)}"],
                ["--mode", rng.choice(SET_VALUES)],
                ["--all-modes"],
                ["--set", name],
            ]
        )
    return Case(
        "params", seed, f"params: {decl[:60]} (used in {use})", argv, {"m.yaml": text}, limit=20
    )


BIGS = [
    HUGE_INT,
    "-" + HUGE_INT,
    "1" + "0" * 4300,
    "9" * 4300,
    "9" * 4301,
    "0x" + "f" * 5000,
    str(2**64),
    str(2**128 + 1),
    str(10**38),
    "-" + str(2**63),
    "0b" + "1" * 5000,
]


@kind("bigint")
def _bigint(rng: random.Random, seed: int) -> Case:
    """5,001-digit (and other huge) integers in YAML scalars, expressions and options."""
    big = HUGE_INT if _nth(seed) < 40 else rng.choice(BIGS)
    positions = [
        ("cpus", lambda t: with_top(t, f"cpus: {big}")),
        ("range hi", lambda t: t.replace("range: [0, 3]", f"range: [0, {big}]")),
        ("range lo", lambda t: t.replace("range: [0, 3]", f"range: [{big}, 3]")),
        (
            "bits",
            lambda t: t.replace("  flag: {type: bool}", f"  flag: {{type: word, bits: {big}}}"),
        ),
        ("init", lambda t: t.replace("range: [0, 3]}", f"range: [0, 3], init: {big}}}")),
        ("param", lambda t: t.replace("P: 1", f"P: {big}")),
        ("param values", lambda t: t.replace("P: 1", f"P: {{values: [1, {big}]}}")),
        (
            "index",
            lambda t: t.replace(
                "  flag: {type: bool}", f"  flag: {{type: bool, index: [0, {big}]}}"
            ),
        ),
        (
            "field",
            lambda t: t.replace(
                "  flag: {type: bool}",
                f"  flag: {{type: word, bits: 8, fields: {{f: [{big}, 1]}}}}",
            ),
        ),
        ("on", lambda t: t.replace("    when: x == 3\n", f"    on: {big}\n    when: x == 3\n")),
        (
            "within",
            lambda t: t.replace(
                "    fair: [inc, reset]", f"    fair: [inc, reset]\n    within: {big}"
            ),
        ),
        ("when", lambda t: t.replace("x < 3", f"x < {big}")),
        ("do", lambda t: t.replace("x + P", f"x + {big}")),
        ("do mod", lambda t: t.replace("x + P", f"(x + {big}) % 4")),
        ("invariant", lambda t: t.replace("x <= 3", f"x <= {big}")),
        ("shift", lambda t: t.replace("x <= 3", f"(1 << {big}) > x")),
        ("shift right", lambda t: t.replace("x <= 3", f"({big} >> x) > 0")),
        ("mul", lambda t: t.replace("x <= 3", f"x * {big} * {big} >= 0")),
        ("floordiv", lambda t: t.replace("x <= 3", f"{big} // (x + 1) > 0")),
        ("in list", lambda t: t.replace("x <= 3", f"x not in [{big}, -{big}]")),
        ("defs", lambda t: with_top(t, f"defs: {{big: {big}}}").replace("x <= 3", "x < big")),
        ("neg", lambda t: t.replace("x <= 3", f"-{big} < x")),
        ("abs min", lambda t: t.replace("x <= 3", f"min(abs(-{big}), x) == x")),
        ("1 << 100000", lambda t: t.replace("x <= 3", "(1 << 100000) > x")),
        ("1 << 10**9", lambda t: t.replace("x <= 3", "(1 << 1000000000) > x")),
        (
            "big word bits",
            lambda t: t.replace("  flag: {type: bool}", "  flag: {type: word, bits: 129, init: 1}"),
        ),
    ]
    options = [
        ["--set", f"P={big}"],
        ["--max-states", big],
        ["--bound", big, "--engine", "symbolic", "--timeout", "3"],
        ["--rlimit", big, "--engine", "symbolic", "--bound", "2"],
        ["--rlimit", str(2**64), "--engine", "symbolic", "--bound", "2"],
        ["--rlimit", str(2**32), "--engine", "symbolic", "--bound", "2"],
        ["--timeout", big],
        ["--timeout", "1e308"],
        ["--bound", str(2**31), "--engine", "symbolic", "--timeout", "3"],
        ["--max-states", str(2**63)],
    ]
    n = len(positions) + len(options)
    v = _variant(seed, n, rng)
    argv = ["verify", "m.yaml", "--max-states", "3000", "--timeout", "8"]
    text = COUNTER
    if v < len(positions):
        label, fn = positions[v]
        text = fn(text)
        if rng.random() < 0.2:
            argv += ["--engine", "symbolic", "--bound", "3", "--rlimit", "2000000"]
    else:
        opt = options[v - len(positions)]
        label = " ".join(o if len(o) < 30 else f"<{len(o)} chars>" for o in opt)
        argv = ["verify", "m.yaml", *opt]
        if "--max-states" not in opt:
            argv += ["--max-states", "3000"]
    digits = len(big.lstrip("-"))
    return Case(
        "bigint", seed, f"{digits}-character integer: {label}", argv, {"m.yaml": text}, limit=20
    )


OUTPUT_FAULTS = [
    "too long",
    "missing folder",
    "unwritable folder",
    "parent is a file",
    "is a directory",
    "symlink loop",
    "dangling symlink",
    "/proc",
    "empty",
    "dot",
    "same path twice",
    "existing file",
    "FIFO",
    "over PATH_MAX",
    "inside the model folder",
]


@kind("outputs")
def _outputs(rng: random.Random, seed: int) -> Case:
    """--junit, --sarif, --trace-dir: names too long, missing, unwritable, a directory, ..."""
    v = _variant(seed, 3 * len(OUTPUT_FAULTS), rng)
    opt, fault = ["--junit", "--sarif", "--trace-dir"][v % 3], OUTPUT_FAULTS[v // 3]
    model = rng.choice(["violating", "counter", "broken", "full"])
    files: dict[str, str | bytes] = {}
    if model == "full":
        files.update(BUNDLED)
        target = "models/full.yaml"
    else:
        target = "m.yaml"
        files["m.yaml"] = {"violating": VIOLATING, "counter": COUNTER, "broken": BROKEN}[model]
    symlinks: dict[str, str] = {}
    dirs: list[str] = []
    chmods: dict[str, int] = {}
    fifos: list[str] = []
    ext = {"--junit": ".xml", "--sarif": ".sarif", "--trace-dir": ""}[opt]
    extra: list[str] = []
    if fault == "too long":
        path = "o" * rng.choice([256, 300, 2000]) + ext
    elif fault == "missing folder":
        path = "missing/deeper/out" + ext
    elif fault == "unwritable folder":
        dirs.append("ro")
        chmods["ro"] = 0o555
        path = "ro/out" + ext
    elif fault == "parent is a file":
        files["plain.txt"] = "x"
        path = "plain.txt/out" + ext
    elif fault == "is a directory":
        dirs.append("adir")
        path = "adir"
        if opt == "--trace-dir":
            files["adir/old.itf.json"] = '{"states": []}'
    elif fault == "symlink loop":
        symlinks["loop"] = "loop"
        path = rng.choice(["loop/out" + ext, "loop"])
    elif fault == "dangling symlink":
        symlinks["dangling" + ext] = "nowhere/x" + ext
        path = "dangling" + ext
    elif fault == "/proc":
        path = "/proc/preemptcheck-fuzz/out" + ext
    elif fault == "empty":
        path = ""
    elif fault == "dot":
        path = rng.choice([".", "..", "./"])
    elif fault == "same path twice":
        path = "same.out"
        other = rng.choice([o for o in ("--junit", "--sarif", "--trace-dir") if o != opt])
        extra = [other, path]
    elif fault == "existing file":
        files["exists" + ext] = "old content\n"
        path = "exists" + ext
    elif fault == "FIFO":
        fifos.append("pipe" + ext)
        path = "pipe" + ext
    elif fault == "over PATH_MAX":
        path = "/".join(["p" * 200] * 22) + "/out" + ext
    else:
        path = target
    argv = ["verify", target, "--max-states", "3000", opt, path, *extra]
    if rng.random() < 0.3:
        argv += rng.choice([["--format", "json"], ["--format", "markdown"], ["--traces", "all"]])
    if rng.random() < 0.3 and opt != "--junit":
        argv += ["--junit", "good/j.xml"]
    return Case(
        "outputs",
        seed,
        f"{opt} {fault} ({model} model)",
        argv,
        files,
        symlinks,
        fifos,
        dirs=dirs,
        chmods=chmods,
        limit=20,
    )


def _nest(template: str, inner: str, depth: int) -> str:
    out = inner
    for _ in range(depth):
        out = template.replace("@", out)
    return out


@kind("huge")
def _huge(rng: random.Random, seed: int) -> Case:
    """Huge expressions, deep expressions and YAML, enormous declarations."""
    v = _variant(seed, 31, rng)
    text = COUNTER
    process = False
    inv = "x <= 3"

    def prop(expr: str) -> str:
        return text.replace(inv, expr if len(expr) < 80 else "'" + expr.replace("'", "''") + "'")

    n = rng.choice([1, 2, 5])
    if v == 0:
        label, text = "a 200,000-character sum", prop(" + ".join(["x"] * 50_000 * n) + " >= 0")
        process = True
    elif v == 1:
        label, text = (
            "a flat `or` of 300,000 characters",
            prop(" or ".join(f"x == {i % 4}" for i in range(30_000 * n))),
        )
    elif v == 2:
        label, text = (
            "x in a list of 60,000 literals",
            prop(f"x in [{', '.join(map(str, range(60_000)))}]"),
        )
    elif v == 3:
        label, text = "min() of 100,000 arguments", prop(f"min({', '.join(['x'] * 100_000)}) <= 3")
    elif v == 4:
        name = "x" * rng.choice([300_000, 100_000])
        label, text = (
            f"a {len(name):,}-character variable name",
            rename_everywhere(COUNTER, "x", name),
        )
    elif v == 5:
        d = rng.choice([1000, 10_000, 100_000])
        label, text, process = f"`not` nested {d:,} deep", prop("not " * d + "(x <= 3)"), True
    elif v == 6:
        d = rng.choice([199, 200, 201, 250])
        label, text, process = (
            f"{d} nested parentheses",
            prop("(" * d + "x" + ")" * d + " <= 3"),
            True,
        )
    elif v == 7:
        d = rng.choice([150, 190])
        label, text, process = (
            f"(x + (x + ...)) {d} deep",
            prop(_nest("(x + @)", "x", d) + " >= 0"),
            True,
        )
    elif v == 8:
        d = rng.choice([500, 2000, 20_000])
        label, text, process = f"x + 1 + 1 ... {d:,} terms", prop("x" + " + 1" * d + " >= 0"), True
    elif v == 9:
        d = rng.choice([1000, 5000])
        label, text, process = (
            f"a conditional expression {d:,} deep",
            prop(" if x == 0 else ".join(["true"] * d)),
            True,
        )
    elif v == 10:
        d = rng.choice([30, 100])
        expr = _nest("any(@ for c in [0, 1])", "x <= 3", d)
        label, text, process = f"aggregates nested {d} deep", prop(expr), True
    elif v == 11:
        d = rng.choice([10_000, 100_000])
        label, text, process = f"~ {d:,} times", prop("~" * d + "x <= 3"), True
    elif v == 12:
        d = rng.choice([1000, 10_000])
        label, text, process = (
            f"a YAML flow list {d:,} deep",
            with_top(text, "doc2: " + "[" * d + "]" * d),
            True,
        )
        text = text.replace("doc2:", "doc:").replace(
            "doc: A counter that goes 0, 1, 2, 3 and back to 0.\n", ""
        )
    elif v == 13:
        d = rng.choice([300, 1000])
        block = "".join("  " * i + f"k{i}:\n" for i in range(d)) + "  " * d + "v\n"
        label, text, process = (
            f"a YAML block mapping {d:,} deep",
            text + "remove:\n" + textwrap_indent(block, "  "),
            True,
        )
    elif v == 14:
        lol = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        for i in range(1, 10):
            lol.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
        where = rng.choice(["doc", "params", "vars"])
        bomb = "{" + ", ".join(lol) + "}"
        label, process = f"a billion-laughs alias bomb in {where}", True
        text = (
            text.replace("doc: A counter that goes 0, 1, 2, 3 and back to 0.", f"doc: {bomb}")
            if where == "doc"
            else text.replace("  P: 1", f"  P: 1\n  B: {bomb}")
            if where == "params"
            else text.replace("  flag: {type: bool}", f"  flag: {{type: bool, extra: {bomb}}}")
        )
    elif v == 15:
        values = ", ".join(f"v{i}" for i in range(100_000))
        label, text = (
            "an enum of 100,000 values",
            text.replace("  flag: {type: bool}", f"  flag: {{type: enum, values: [{values}]}}"),
        )
    elif v == 16:
        values = ", ".join(f"e{i}" for i in range(100_000))
        label, text = (
            "a named enum of 100,000 values, indexing a variable",
            with_top(
                text.replace("  flag: {type: bool}", "  flag: {type: bool, index: big}"),
                f"enums: {{big: [{values}]}}",
            ),
        )
    elif v == 17:
        label, text = (
            "100,000 tasks",
            with_top(
                text.replace("  flag: {type: bool}", "  flag: {type: bool, index: tasks}"),
                f"tasks: [{', '.join(f't{i}' for i in range(100_000))}]",
            ),
        )
    elif v == 18:
        c = rng.choice([1000, 100_000, 10**6])
        label, process = f"cpus: {c:,} with a per-CPU flag", True
        text = with_top(
            text.replace("  flag: {type: bool}", "  flag: {type: bool, index: cpus}"), f"cpus: {c}"
        )
    elif v == 19:
        label, text = (
            "int range [0, 10**18]",
            text.replace("range: [0, 3]", "range: [0, 1000000000000000000]").replace(
                "x < 3", "x < 1000000000000000000"
            ),
        )
    elif v == 20:
        b = rng.choice([100_000, 10**6, 10**9])
        label, process = f"a word of {b:,} bits", True
        text = text.replace("  flag: {type: bool}", f"  flag: {{type: word, bits: {b}}}")
    elif v == 21:
        fields = ", ".join(f"f{i}: [{i}, 1]" for i in range(1000))
        label, text = (
            "a word with 1,000 fields",
            text.replace(
                "  flag: {type: bool}", f"  flag: {{type: word, bits: 1000, fields: {{{fields}}}}}"
            ),
        )
    elif v == 22:
        lines = "".join(f"  b{i}: {{type: bool}}\n" for i in range(10_000))
        label, text = "10,000 variables", text.replace("vars:\n", "vars:\n" + lines)
    elif v == 23:
        lines = "".join(
            f"  a{i}:\n    when: x == {i % 4}\n    do: {{flag: not flag}}\n" for i in range(10_000)
        )
        label, text = "10,000 actions", text.replace("actions:\n", "actions:\n" + lines)
    elif v == 24:
        lines = "".join(f"  p{i}:\n    invariant: x != {i + 4}\n" for i in range(10_000))
        label, text = "10,000 properties", text.replace("properties:\n", "properties:\n" + lines)
    elif v == 25:
        hi = rng.choice([10**6, 10**9])
        label, text = (
            f"for over [0, {hi:,}]",
            text.replace(
                "  reset:\n",
                f"  jump:\n    for: {{i: [0, {hi}]}}\n    when: i == x\n"
                "    do: {flag: true}\n  reset:\n",
            ),
        )
        process = hi > 10**6
    elif v == 26:
        hi = rng.choice([10**5, 10**7])
        label, process = f"an index over [0, {hi:,}]", True
        text = text.replace("  flag: {type: bool}", f"  flag: {{type: bool, index: [0, {hi}]}}")
    elif v == 27:
        label, text = (
            "an init list of 100,000 values",
            text.replace(
                "  flag: {type: bool}",
                "  flag: {type: bool, index: [0, 99999], init: ["
                + ", ".join(["false"] * 100_000)
                + "]}",
            ),
        )
    elif v == 28:
        label, text = (
            "a 10 MB doc string",
            text.replace(
                "doc: A counter that goes 0, 1, 2, 3 and back to 0.", "doc: " + "word " * 2_000_000
            ),
        )
    elif v == 29:
        files = {
            "m.yaml": with_top(
                COUNTER, f"check: [{', '.join(f'p/p{i}.yaml' for i in range(1000))}]"
            )
        }
        for i in range(1000):
            files[f"p/p{i}.yaml"] = f"properties:\n  q{i}:\n    invariant: x != {i + 4}\n"
        return Case(
            "huge",
            seed,
            "1,000 check files",
            ["verify", "m.yaml", "--max-states", "5000", "--timeout", "10"],
            dict(files),
            limit=20,
        )
    else:
        d = rng.choice([50, 200])
        label, text = (
            f"defs chained {d} deep",
            with_top(
                text.replace(inv, f"d{d}"),
                "defs: {"
                + ", ".join(
                    ["d0: x <= 3"] + [f"d{i}: d{i - 1} and d{i - 1}" for i in range(1, d + 1)]
                )
                + "}",
            ),
        )
        process = True
    argv = ["verify", "m.yaml", "--max-states", "5000", "--timeout", "10"]
    if rng.random() < 0.25:
        argv += ["--engine", "symbolic", "--bound", "3", "--rlimit", "2000000"]
        process = True
    return Case("huge", seed, label, argv, {"m.yaml": text}, process=process, limit=20)


def textwrap_indent(text: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(True))


# (extra argv, exit codes it must give or None, label)
CLI_MISUSE: list[tuple[list[str], tuple[int, ...] | None, str]] = [
    (["--bogus"], (2,), "unknown option"),
    (["--max-state", "5"], (2,), "misspelt option"),
    (["-x"], (2,), "unknown short option"),
    (["---"], (2,), "three dashes"),
    (["--max-states"], (2,), "option without its value"),
    (["--max-states="], (2,), "option with an empty value"),
    (["--max-states", "0"], (2,), "--max-states 0"),
    (["--max-states", "-1"], (2,), "--max-states -1"),
    (["--max-states", "abc"], (2,), "--max-states abc"),
    (["--max-states", "1.5"], (2,), "--max-states 1.5"),
    (["--timeout", "-1"], (2,), "--timeout -1"),
    (["--timeout", "0"], (2,), "--timeout 0"),
    (["--timeout", "-0.0"], (2,), "--timeout -0.0"),
    (["--timeout", "nan"], (2,), "--timeout nan"),
    (["--timeout", "-inf"], (2,), "--timeout -inf"),
    (["--timeout", "inf"], None, "--timeout inf"),
    (["--timeout", "abc"], (2,), "--timeout abc"),
    (["--timeout", "1e-9"], None, "--timeout 1e-9"),
    (["--bound", "0"], (2,), "--bound 0"),
    (["--bound", "-1"], (2,), "--bound -1"),
    (["--bound", "x"], (2,), "--bound x"),
    (["--rlimit", "-1"], (2,), "--rlimit -1"),
    (["--rlimit", "x"], (2,), "--rlimit x"),
    (["--rlimit", "1", "--engine", "symbolic"], None, "--rlimit 1"),
    (["--set", "P"], (2,), "--set without ="),
    (["--set", "=1"], (2,), "--set =1"),
    (["--set", "P="], (2,), "--set P="),
    (["--set", "unknown=1"], (2,), "--set unknown=1"),
    (["--set", "P=1", "--set", "P=2"], None, "--set twice"),
    (["--mode", "bogus"], (2,), "--mode bogus"),
    (["--mode", ""], (2,), "--mode ''"),
    (["--property", "nonexistent"], (2,), "--property nonexistent"),
    (["--property", ""], (2,), "--property ''"),
    (["--format", "bogus"], (2,), "--format bogus"),
    (["--engine", "bogus"], (2,), "--engine bogus"),
    (["--traces", "bogus"], (2,), "--traces bogus"),
    (["--all-modes", "--mode", "full"], (2,), "--all-modes with --mode"),
    (["--all-modes", "--set", "mode=full"], (2,), "--all-modes with --set mode="),
    (["--format", "json", "--format", "text"], None, "--format twice"),
    (["--symmetry", "--engine", "symbolic"], None, "--symmetry with the symbolic engine"),
    (["--engine", "auto", "--max-states", "1"], None, "--engine auto with 1 state"),
    (["--fail-fast", "--strict", "--traces", "all"], None, "every flag"),
    (["--cache", "--cache-dir", "cachefile"], None, "--cache-dir a file"),
    (["--cache", "--cache-dir", "missing/deeper/cache"], None, "--cache-dir in a missing folder"),
    (["--cache", "--cache-dir", "c" * 300], None, "--cache-dir name too long"),
    (["--cache", "--cache-dir", "/proc/preemptcheck-fuzz"], None, "--cache-dir under /proc"),
    (["--cache", "--cache-dir", ""], None, "--cache-dir ''"),
    (["--debug"], None, "--debug"),
    (["--", "--bogus"], (2,), "a path named --bogus"),
    (["--help"], (0,), "--help"),
]


@kind("cli")
def _cli(rng: random.Random, seed: int) -> Case:
    """Unknown options, bad option values, conflicting options, odd arguments."""
    files: dict[str, str | bytes] = {"m.yaml": COUNTER, "ok.yaml": OK_SMALL, "cachefile": "x"}
    if _nth(seed) < len(CLI_MISUSE):
        extra, expect, label = CLI_MISUSE[_nth(seed)]
        target = (
            "ok.yaml"
            if any(a in ("--mode", "--all-modes") or a.startswith("mode=") for a in extra)
            else "m.yaml"
        )
        argv = ["verify", target, *extra]
        if not any(a.startswith("--max-states") for a in extra):
            argv += ["--max-states", "3000"]
        return Case("cli", seed, label, argv, files, expect=expect)
    picks = rng.sample(CLI_MISUSE, rng.randint(1, 3))
    argv = ["verify"]
    paths = rng.choice(
        [
            ["m.yaml"],
            ["ok.yaml"],
            ["m.yaml", "ok.yaml"],
            [],
            [""],
            ["."],
            ["-"],
            ["m.yaml"] * 50,
            ["nonexistent.yaml"],
        ]
    )
    argv += paths
    labels = [f"paths {' '.join(map(repr, paths[:3]))}{' ...' if len(paths) > 3 else ''}"]
    for extra, _expect, label in picks:
        argv += extra
        labels.append(label)
    if rng.random() < 0.3:
        command = rng.choice(
            ["verify", "latency", "bogus", "--version", "--help", "verify --help", ""]
        )
        argv = [command, *argv[1:]]
        labels.append(f"command {argv[0]!r}")
    if "--max-states" not in argv:
        argv += ["--max-states", "3000"]
    return Case("cli", seed, "; ".join(labels), argv, files)


SIGNAL_PHASES = ["exploration", "z3", "a glob through two directory loops", "loading"]
SIGNAL_GRACE = 10.0  # seconds a run may take to stop once signalled


@kind("signal")
def _signal(rng: random.Random, seed: int) -> Case:
    """SIGINT or SIGTERM in the middle of a run that writes --junit/--sarif/--trace-dir:
    while it explores, in z3, in a slow folder walk, while it loads a big model."""
    sig = [signal.SIGINT, signal.SIGTERM][seed % 2]
    phase = SIGNAL_PHASES[_variant(seed // 2, len(SIGNAL_PHASES), rng)]
    after = rng.choice([0.6, 1.0, 1.5, 2.5])
    outputs = ["--junit", "out/j.xml", "--sarif", "out/s.sarif", "--trace-dir", "out/traces"]
    files: dict[str, str | bytes] = {}
    symlinks: dict[str, str] = {}
    if phase == "exploration":
        files["slow.yaml"] = slow_model(rng.choice([1500, 2000]))
        argv = ["verify", "slow.yaml", "--max-states", "2000000"]
    elif phase == "z3":
        files["slow.yaml"] = slow_model(rng.choice([1500, 2000]))
        argv = ["verify", "slow.yaml", "--engine", "symbolic", "--bound", "400", "--rlimit", "0"]
    elif phase == "loading":
        lines = "".join(f"  p{i}:\n    invariant: x != {i + 4}\n" for i in range(10_000))
        files["big.yaml"] = COUNTER.replace("properties:\n", "properties:\n" + lines)
        argv = ["verify", "big.yaml"]
    else:
        files["tree/good.yaml"] = COUNTER
        symlinks = {"tree/loop": ".", "tree/link": "."}
        argv = ["verify", "tree/**/*.yaml"]
    return Case(
        "signal",
        seed,
        f"{sig.name} after {after} s, during {phase}",
        [*argv, *outputs],
        files,
        symlinks,
        process=True,
        send_signal=(int(sig), after),
        limit=30,
    )


# Models of tests/strategies.py, drawn once and kept as files (by the symbolic agreement
# test): drawing them here would not repeat, since Hypothesis mixes constants of whatever
# local modules are loaded into its choices.
GENERATED = sorted((TESTS / "fixtures" / "agreement").glob("*.yaml"))


def _generated_model(rng: random.Random) -> tuple[str, str]:
    """(name, text) of a random valid model generated by tests/strategies.py."""
    if not GENERATED:
        return "counter", COUNTER
    path = rng.choice(GENERATED)
    return str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")


MUTANT_ARGS = [
    "--format",
    "json",
    "--max-states",
    "20000",
    "--bound",
    "6",
    "--rlimit",
    "3000000",
    "--timeout",
    "10",
]


@kind("mutant")
def _mutant(rng: random.Random, seed: int) -> Case:
    """A small valid model with one operator, constant, guard or assignment changed, checked
    by both engines."""
    r = rng.random()
    if r < 0.7:
        source, text = _generated_model(rng)
    elif r < 0.85:
        name = rng.choice(sorted(OWN))
        source, text = name, OWN[name]
    else:
        source = rng.choice(RACES)
        text = BUNDLED[source]
    done = []
    for _ in range(rng.choice([1, 1, 1, 2])):
        out = semantic_mutation(rng, text)
        if out:
            text, what = out
            done.append(what)
    return Case(
        "mutant",
        seed,
        f"{source}: " + ("; ".join(done) or "unmutated"),
        ["verify", "m.yaml", *MUTANT_ARGS],
        {"m.yaml": text},
        engines=True,
        limit=30,
    )


# ---------------------------------------------------------------- suites

# the CI mix: about 520 cases, each class's first seeds being its fixed variants
CI_COUNTS: dict[str, int] = {
    "structural": 110,
    "inject": 45,
    "float": 25,
    "paths": 40,
    "devices": 12,
    "walk": 12,
    "unreadable": 10,
    "params": 48,
    "bigint": 36,
    "outputs": 45,
    "huge": 22,
    "cli": 60,
    "signal": 4,
    "mutant": 50,
}

# the campaign's weights for its --cases (mutants are counted apart)
CAMPAIGN_WEIGHTS: dict[str, float] = {
    "structural": 30,
    "inject": 12,
    "float": 6,
    "paths": 8,
    "devices": 2,
    "walk": 4,
    "unreadable": 2,
    "params": 8,
    "bigint": 7,
    "outputs": 8,
    "huge": 3,
    "cli": 10,
    "signal": 0.3,
}


def suite(counts: dict[str, int], first_seed: int = 0) -> list[tuple[str, int]]:
    """(kind, seed) of every case: `counts[kind]` seeds from `first_seed`."""
    return [(k, first_seed + i) for k, n in counts.items() for i in range(n)]


def campaign_counts(cases: int, mutants: int) -> dict[str, int]:
    total = sum(CAMPAIGN_WEIGHTS.values())
    counts = {k: max(1, round(cases * w / total)) for k, w in CAMPAIGN_WEIGHTS.items()}
    counts["structural"] += cases - sum(counts.values())
    counts["mutant"] = mutants
    return counts
