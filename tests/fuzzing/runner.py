"""Running a case: its files in a working directory, its runs in this process or a new one."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import traceback
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from .cases import Case, Problem, Result, Run, excerpt
from .oracle import SIGNAL_GRACE, check_engines, check_run, snapshot, unique

MEMORY_LIMIT = 1 << 30  # address space of a case's process (a runaway read gives MemoryError)


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


class _Hang(BaseException):
    """Raised by SIGALRM in the main thread: the run went over its time limit."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Hang


_HIDDEN_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def run_inprocess(argv: list[str], workdir: Path, limit: float) -> Run:
    """Run the Typer app in this process (typer's CliRunner), in `workdir`, under a
    SIGALRM time limit (main thread only)."""
    from typer.testing import CliRunner

    from preemptcheck.cli.main import app

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


PROGRAM = "from preemptcheck.cli.main import main; main()"


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
    return Result(case, runs, unique(problems))


def report(result: Result, limit: int = 2500) -> str:
    """A failure for an assertion message: the problems, the reproducer, the output."""
    lines = [f"{p.cause}\n    {excerpt(p.detail, 600)}" for p in result.problems]
    lines.append(result.case.describe(limit))
    for run in result.runs:
        tail = (run.stdout[-800:] + "\n" + run.stderr[-800:]).strip()
        lines.append(f"  exit {run.exit_code} in {run.elapsed:.2f} s; output tail:\n{tail}")
    return "\n".join(lines)
