"""What the commands share: the closed sets of their options, the options several take,
usage errors, output files, and the guard that turns exceptions into exit
codes. The cli package is the only one that prints or exits."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import traceback
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from preemptcheck.checking.options import Backend as Backend
from preemptcheck.checking.options import Engine as Engine
from preemptcheck.cli.progress import Display
from preemptcheck.core import interrupt
from preemptcheck.core.errors import Code, Diagnostic, InputError
from preemptcheck.core.outfiles import write_atomic
from preemptcheck.core.source import SourceCache

EXIT_INTERNAL = 4


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class Per(StrEnum):
    cpu = "cpu"
    task = "task"
    global_ = "global"


class Color(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


def use_color(choice: Color) -> bool:
    """auto: on a terminal, unless NO_COLOR is set to something (no-color.org)."""
    if choice == Color.auto:
        return sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    return choice == Color.always


class TraceFormat(StrEnum):
    table = "table"
    ftrace = "ftrace"


class Traces(StrEnum):
    violations = "violations"
    all = "all"
    none = "none"


# options shared by verify, latency and diff
ModeOption = Annotated[
    str | None,
    typer.Option(help="Set the model's `mode` param (none, voluntary, full, lazy, rt)."),
]
PropertyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--property",
        metavar="ID",
        help="Check only this property (repeatable; built-ins always run).",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="NAME=VALUE", help="Set a param (repeatable)."),
]
WorkLimitOption = Annotated[
    int,
    typer.Option(
        help="Symbolic engine: z3 resource units for the whole run of one model, every "
        "query and the strengthening (a work limit, the same on every machine; 0 for "
        "none); what is open when it is reached is inconclusive."
    ),
]
DebugOption = Annotated[bool, typer.Option(help="Show the Python traceback of internal errors.")]


def usage(message: str, code: Code = Code.BAD_OPTION) -> typer.Exit:
    typer.echo(Diagnostic(code, message).headline(), err=True)
    return typer.Exit(2)


def check_modes(all_modes: bool, mode: str | None, sets: list[str] | None) -> None:
    sets_mode = any(item.partition("=")[0].strip() == "mode" for item in sets or [])
    if all_modes and (mode is not None or sets_mode):
        raise usage("--all-modes takes every mode the model lists: drop --mode and --set mode=")


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def size(option: str, text: str) -> int:
    """A size in bytes from `text`: a number with an optional K, M, G or T (binary units)."""
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1:] if t[-1:] in _UNITS else ""
    try:
        value = float(t[: len(t) - len(unit)])
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise usage(f"{option} must be a size such as 8G or 512M, got {text!r}")
    return int(value * _UNITS[unit])


def check_workers(workers: int) -> None:
    from preemptcheck.engines.explicit.search import max_workers

    most = max_workers()
    if not 1 <= workers <= most:
        raise usage(f"--workers must be between 1 and {most} (this machine's CPUs), got {workers}")


def check_limits(
    max_states: int | None, timeout: float | None, bound: int, rlimit: int, work_limit: int = 0
) -> None:
    if max_states is not None and max_states < 1:
        raise usage(f"--max-states must be at least 1, got {max_states}")
    if timeout is not None and not (timeout > 0 and math.isfinite(timeout)):
        raise usage(f"--timeout must be a positive number of seconds, got {timeout:g}")
    if bound < 1:
        raise usage(f"--bound must be at least 1, got {bound}")
    if rlimit < 0:
        raise usage(f"--rlimit must be 0 (no limit) or positive, got {rlimit}")
    if work_limit < 0:
        raise usage(f"--work-limit must be 0 (no limit) or positive, got {work_limit}")


def parse_overrides(sets: list[str], mode: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in sets:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise usage(f"--set {item}: expected NAME=VALUE")
        out[name.strip()] = value.strip()
    if mode is not None:
        if not mode.strip():
            raise usage("--mode: expected a mode (none, voluntary, full, lazy, rt)")
        out["mode"] = mode
    return out


def write_output(option: str, path: Path, content: str) -> None:
    """An output file of `verify`; a path that cannot be written is a usage error (exit 2)."""
    try:
        write_atomic(path, content)
    except OSError as exc:
        raise usage(f"{option} {path}: cannot write: {exc.strerror or exc}") from None


def print_notes(notes: tuple[str, ...], shown: int = 20) -> None:
    """The run's notes on stderr (the report stays the same bytes with or without them)."""
    for line in notes[:shown]:
        typer.echo(line, err=True)
    if len(notes) > shown:
        typer.echo(f"note: {len(notes) - shown} more notes like these", err=True)


@contextlib.contextmanager
def guarded(sources: SourceCache, debug: bool, progress: Display | None = None) -> Iterator[None]:
    """Bad input: its diagnostics, exit 2. A bug in preemptcheck: one line, exit 4."""
    try:
        yield
    except typer.Exit:  # a decided exit code (a usage error found late)
        raise
    except InputError as exc:
        if progress is not None:
            progress.done()
        for d in exc.diagnostics:
            typer.echo(d.render(sources), err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt as exc:  # a second signal, or a command that stops at once
        if progress is not None:
            progress.done()
        typer.echo("interrupted: stopped at once, nothing decided is reported", err=True)
        status = (
            exc.status if isinstance(exc, interrupt.Stopped) else interrupt.EXIT_STATUS["SIGINT"]
        )
        raise typer.Exit(status) from None
    except Exception as exc:  # a bug in preemptcheck, not in the model
        if progress is not None:
            progress.done()
        if debug:
            traceback.print_exc()
        typer.echo(
            f"internal error: {type(exc).__name__}: {exc}"
            + ("" if debug else " (run with --debug for the traceback)"),
            err=True,
        )
        raise typer.Exit(EXIT_INTERNAL) from None
