"""preemptcheck: a model checker for the Linux kernel's preemption machinery.

The library API (docs/api.md) is importable from here: `preemptcheck.load`,
`preemptcheck.check`, `preemptcheck.Verdict`, ... It lives in `preemptcheck.api` and is
imported on first use, so that `import preemptcheck` (which the command line and every
submodule do first) stays as light as this file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from preemptcheck.core.version import __version__ as __version__

if TYPE_CHECKING:
    from preemptcheck.api import (
        Backend,
        Code,
        Diagnostic,
        Engine,
        Expect,
        InputError,
        Model,
        ModelError,
        ModelFailure,
        ModelResult,
        Options,
        Outcome,
        ParamValue,
        PreemptcheckError,
        PropertyResult,
        PropKind,
        RunResult,
        Span,
        Stats,
        Strength,
        Trace,
        TraceData,
        TraceStep,
        UsageError,
        Verdict,
        as_json,
        check,
        check_all,
        load,
        loads,
        render,
        render_error,
        render_trace,
        trace_of,
    )

__all__ = [
    "Backend",
    "Code",
    "Diagnostic",
    "Engine",
    "Expect",
    "InputError",
    "Model",
    "ModelError",
    "ModelFailure",
    "ModelResult",
    "Options",
    "Outcome",
    "ParamValue",
    "PreemptcheckError",
    "PropKind",
    "PropertyResult",
    "RunResult",
    "Span",
    "Stats",
    "Strength",
    "Trace",
    "TraceData",
    "TraceStep",
    "UsageError",
    "Verdict",
    "__version__",
    "as_json",
    "check",
    "check_all",
    "load",
    "loads",
    "render",
    "render_error",
    "render_trace",
    "trace_of",
]


def __getattr__(name: str) -> object:
    """The API's names, from preemptcheck.api on first use (PEP 562)."""
    if name in __all__:
        from preemptcheck import api

        value: object = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
