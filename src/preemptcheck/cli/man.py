"""`preemptcheck man`: the manual page (roff, section 1), written from the same parameters
and help texts as `--help`, so the two cannot disagree. `docs/preemptcheck.1` is its output
(tests/test_cli_conventions.py keeps it current); `man -l docs/preemptcheck.1` reads it."""

from __future__ import annotations

import re
from typing import Any

import typer

from preemptcheck.core.version import __version__

# what the environment changes; the options that read a variable name it in their help too
ENVIRONMENT = (
    ("NO_COLOR", "When set to anything, --color auto prints no colour (no-color.org)."),
    (
        "PREEMPTCHECK_CACHE",
        "0 checks every model again, as --no-cache does.",
    ),
    ("PREEMPTCHECK_CACHE_DIR", "Where cached results are kept, as --cache-dir."),
    (
        "PREEMPTCHECK_MAX_FILE_SIZE",
        "The largest model, extends or check file read (e.g. 64M; default 16M).",
    ),
    ("PREEMPTCHECK_TIMING", "When set, print the run's time on stderr even off a terminal."),
    (
        "XDG_CACHE_HOME",
        "The base of the default cache directory (else ~/.cache): results and compiled code.",
    ),
    ("GITHUB_ACTIONS", "When true, verify also prints GitHub annotations for the failures."),
)

EXIT_STATUS = (
    ("0", "every verdict is as expected (or the command did what it was asked)"),
    ("1", "a verdict differs from its expectation (a regression, for diff)"),
    ("2", "bad input or usage; the message names file, line, column and key"),
    ("3", "inconclusive: a limit was reached (states, memory, time, z3 work)"),
    ("4", "internal error: a bug in preemptcheck (--debug shows the traceback)"),
    ("130, 143", "interrupted by SIGINT or SIGTERM"),
)


def man(ctx: typer.Context) -> None:
    """Print the manual page (roff) to standard output.

    For example: preemptcheck man > preemptcheck.1 && man -l preemptcheck.1
    """
    root = ctx.parent
    assert root is not None, "man runs as a subcommand"
    typer.echo(render(root), nl=False)
    raise typer.Exit(0)


def render(root: Any) -> str:
    """The page for the command of context `root` (the group) and its subcommands."""
    group = root.command
    name = "preemptcheck"  # whichever way it was started (python -m, a test runner)
    out = [
        f'.TH {name.upper()} 1 "" "{name} {__version__}" "User Commands"',
        ".SH NAME",
        f"{name} \\- {_esc(_lower_first(_first_line(group.help or '')))}",
        ".SH SYNOPSIS",
        f".B {name}",
        "[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".SH DESCRIPTION",
        *_paragraphs(group.help or ""),
        ".SH OPTIONS",
        *_options(group, root),
        ".SH COMMANDS",
    ]
    for sub_name in group.list_commands(root):
        command = group.get_command(root, sub_name)
        if command is None or command.hidden:
            continue
        sub = type(root)(command, info_name=sub_name, parent=root)
        usage = " ".join(command.collect_usage_pieces(sub))
        out += [f'.SS "{_esc(f"{name} {sub_name} {usage}")}"', *_paragraphs(command.help or "")]
        out += _options(command, sub)
    out.append(".SH EXIT STATUS")
    for code, meaning in EXIT_STATUS:
        out += [".TP", f".B {code}", _esc(meaning)]
    out.append(".SH ENVIRONMENT")
    for var, meaning in ENVIRONMENT:
        out += [".TP", f".B {var}", _esc(meaning)]
    out += [
        ".SH SEE ALSO",
        "The README and docs/ of the preemptcheck repository: the model language, "
        "docs/kernel-facts.md, docs/ftrace.md, docs/api.md.",
    ]
    return "\n".join(out) + "\n"


def _options(command: Any, ctx: Any) -> list[str]:
    out: list[str] = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, text = record
        out += [".TP", f"\\fB{_esc(names)}\\fR", _esc(text) if text else ""]
    return out


def _first_line(text: str) -> str:
    return text.strip().split("\n\n")[0].replace("\n", " ").rstrip(".")


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        if block.strip():
            out += [".PP", _esc(" ".join(line.strip() for line in block.splitlines()))]
    return out


def _esc(text: str) -> str:
    """Text safe in roff: backslashes and hyphens escaped, no line starting with a control
    character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line[:1] in (".", "'") else line for line in text.split("\n"))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
