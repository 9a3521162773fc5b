"""The `preemptcheck` command: one Typer app with a module per command (the entry point)."""

from __future__ import annotations

from typing import Annotated

import typer

from preemptcheck import __version__
from preemptcheck.cli import diff, latency, rv_export, trace, verify
from preemptcheck.cli.common import usage
from preemptcheck.core.source import max_file_size

app = typer.Typer(
    add_completion=True,  # --install-completion, --show-completion SHELL
    no_args_is_help=True,
    help="A model checker for the Linux kernel's preemption machinery.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"preemptcheck {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """preemptcheck: every property of a preemption model proved over all reachable states,
    or broken by the shortest trace, in the kernel's own terms."""
    try:
        max_file_size()
    except ValueError as exc:
        raise usage(str(exc)) from None


app.command()(verify.verify)
app.command()(latency.latency)
app.command()(diff.diff)
app.command()(trace.trace)
app.command("rv-export")(rv_export.rv_export)


def main() -> None:
    app()
