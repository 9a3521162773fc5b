"""The `preemptcheck` command: one Typer app with a module per command (the entry point)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from preemptcheck.cli import diff, graph, latency, man, rv_export, simulate, trace, verify
from preemptcheck.cli.common import usage
from preemptcheck.core.errors import Code, Diagnostic
from preemptcheck.core.source import max_file_size
from preemptcheck.core.version import __version__


class _Group(TyperGroup):
    """Click's own usage errors (an unknown option, a missing argument, a value of the wrong
    type) in the form of every other error: `error[PCnnn]: ...`, the usage line, exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            for param in command.params:
                _name_value(param)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
        except typer.TyperException as exc:  # click's usage and file errors
            if not standalone:
                raise
            sys.exit(_usage_error(exc))
        except typer.Abort:  # end of input at a prompt
            if not standalone:
                raise
            sys.exit(1)
        if not standalone:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


def _name_value(param: Any) -> None:
    """A metavar that says what the value is (N, SECONDS, FILE), not its Python type
    (`<int>`, `<list[str]>`): for a parameter that does not name its own."""
    if param.param_type_name == "argument":  # `PATHS...`: the name says it
        name = param.metavar or (param.name or "value").upper()
        param.metavar = name
        many = "..." if param.nargs != 1 and " " not in name and not name.endswith("...") else ""
        shown = f"{name}{many}" if param.required or name.startswith("[") else f"[{name}]{many}"
        if hasattr(param, "display_type_rich"):
            param.display_type_rich = lambda ctx: None
        if hasattr(param, "_usage_display_name"):
            param._usage_display_name = lambda: shown
        return
    if param.metavar is not None or getattr(param, "is_flag", False):
        return
    shown = param.display_type(None) if hasattr(param, "display_type") else ""
    kind = shown.strip("<>").removeprefix("list[").removesuffix("]")
    if "|" in kind:  # a closed set: the choices are the metavar
        param.metavar = "[" + kind + "]"
        return
    name = (param.name or "value").upper()
    by_kind = {"int": "N", "float": "SECONDS", "path": "DIR" if name.endswith("DIR") else "FILE"}
    param.metavar = by_kind.get(kind, name)


def _usage_error(exc: typer.TyperException) -> int:
    """Print a usage error as every other error is printed; its exit status."""
    ctx = getattr(exc, "ctx", None)
    name = type(exc).__name__
    if name == "NoArgsIsHelpError" and ctx is not None:  # a bare command: its help
        typer.echo(ctx.get_help())
        return 2
    bad_value = isinstance(exc, typer.BadParameter) and name != "MissingParameter"
    code = Code.BAD_OPTION if bad_value else Code.BAD_USAGE
    message = exc.format_message().rstrip(".")
    typer.echo(Diagnostic(code, message[:1].lower() + message[1:]).headline(), err=True)
    if ctx is not None:
        typer.echo(f"usage: {ctx.get_usage().removeprefix('Usage: ')}", err=True)
        typer.echo(f"try '{ctx.command_path} --help' for the options", err=True)
    else:  # found while the words were split, before a command was chosen
        typer.echo("try 'preemptcheck COMMAND --help' for the options", err=True)
    return 2


app = typer.Typer(
    cls=_Group,
    add_completion=True,  # --install-completion, --show-completion SHELL
    # plain help: fits an 80-column terminal and a man page, without box drawing
    rich_markup_mode=None,
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
app.command()(man.man)
app.command()(simulate.simulate)
app.command()(graph.graph)


def main() -> None:
    app()
