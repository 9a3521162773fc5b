"""The library: load a model from a file or a string, check it, read its verdicts and traces.

Everything here is also importable from `preemptcheck` itself (docs/api.md). The result
types, enums and errors are the checker's own, re-exported; this module adds the calls that
tie the stages together and the conversions a caller needs (traces as plain data, text as
the command line prints it).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import TypeVar

from preemptcheck.api.fromtext import renamed_error, renamed_model, scratch_file
from preemptcheck.api.output import (
    TraceData,
    TraceStep,
    as_json,
    render,
    render_error,
    render_trace,
    trace_of,
)
from preemptcheck.checking.check import check_file, check_model, check_paths, select_properties
from preemptcheck.checking.options import Backend, Engine, Options
from preemptcheck.checking.results import (
    ModelFailure,
    ModelResult,
    Outcome,
    PropertyResult,
    RunResult,
    Stats,
    Strength,
    Verdict,
)
from preemptcheck.ci.cache import ResultCache
from preemptcheck.core.errors import (
    Code,
    Diagnostic,
    InputError,
    ModelError,
    PreemptcheckError,
    UsageError,
)
from preemptcheck.core.source import SourceCache, Span
from preemptcheck.model import load_model
from preemptcheck.model.ir import Expect, Model, PropKind
from preemptcheck.semantics.trace import Trace

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

ParamValue = str | int | bool
"""A param's value as `load(params=...)` takes it (`--set NAME=VALUE` on the command line)."""

_E = TypeVar("_E", bound=Enum)


def load(path: str | os.PathLike[str], *, params: Mapping[str, ParamValue] | None = None) -> Model:
    """The model in the file at `path`, for one choice of param values (the others keep
    their defaults). Raises ModelError for a malformed model, UsageError for a param the
    model does not declare or a value it does not allow; both carry `.diagnostics`."""
    return load_model(_path(path, "path"), overrides=_overrides(params), sources=SourceCache())


def loads(
    text: str,
    *,
    name: str = "<string>",
    base_dir: str | os.PathLike[str] | None = None,
    params: Mapping[str, ParamValue] | None = None,
) -> Model:
    """The model written in `text`. Diagnostics name it `name`, with line and column.

    `extends`, `check` and `monitor` paths are relative to `base_dir`; without it, a string
    has no folder and only absolute paths can be followed. The text is read from a
    temporary file that exists only while it is loaded: in `base_dir` (hidden, so it must be
    writable) or else in a private temporary folder.
    """
    if not isinstance(text, str):
        raise TypeError(f"loads() takes the model's text as a str, not {type(text).__name__}")
    overrides = _overrides(params)
    folder = _path(base_dir, "base_dir") if base_dir is not None else None
    with scratch_file(text, folder) as (file, private):
        try:
            model = load_model(file, overrides=overrides, sources=SourceCache())
        except InputError as exc:
            raise renamed_error(exc, file, name, text, private) from None
    return renamed_model(model, file, name)


def check(
    model: Model | str | os.PathLike[str],
    options: Options | None = None,
    *,
    params: Mapping[str, ParamValue] | None = None,
    engine: Engine | None = None,
    backend: Backend | None = None,
    properties: Sequence[str] | None = None,
    max_states: int | None = None,
    timeout: float | None = None,
    symmetry: bool | None = None,
    bound: int | None = None,
) -> ModelResult:
    """Check one model (loaded, or a path) for one choice of param values.

    The keywords given (not None) replace those fields of `options` (default: Options()).
    A path is loaded with `params` and may use the options' results cache; a loaded Model
    has its params already, and is checked as it is.
    """
    opts = _options(
        options,
        engine=engine,
        backend=backend,
        properties=properties,
        max_states=max_states,
        timeout=timeout,
        symmetry=symmetry,
        bound=bound,
    )
    if isinstance(model, Model):
        if params is not None:
            raise TypeError(
                "check(): params are chosen when a model is loaded: load(path, params=...)"
            )
        return check_model(model.file, select_properties(model, opts.properties), opts, None)
    if params is not None:
        opts = dataclasses.replace(opts, overrides=_overrides(params))
    cache = ResultCache(opts.cache_dir) if opts.cache_dir is not None else None
    return check_file(_path(model, "model"), opts, sources=SourceCache(), cache=cache)


def check_all(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    options: Options | None = None,
) -> RunResult:
    """What `preemptcheck verify PATH...` does: every model file under `paths` (folders are
    searched, globs expanded), every choice of params the model sweeps or
    `options.overrides` lists, the results cache when `options.cache_dir` is set. A file
    that cannot be checked is a ModelFailure in the result, not an exception; only paths
    that name no model at all raise UsageError."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    opts = _options(options)
    return check_paths([_path(p, "paths") for p in paths], opts, sources=SourceCache())


# ---------------------------------------------------------------- arguments


def _path(value: object, what: str) -> str:
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if isinstance(path, str):
            return path
    raise TypeError(f"{what}: expected a str or os.PathLike path, got {type(value).__name__}")


def _overrides(params: Mapping[str, ParamValue] | None) -> dict[str, str]:
    """Param values as the command line's `--set` would give them."""
    out: dict[str, str] = {}
    for name, value in (params or {}).items():
        if isinstance(value, bool):  # before int: a bool is an int
            out[name] = "true" if value else "false"
        elif isinstance(value, (int, str)):
            out[name] = str(value)
        else:
            raise TypeError(
                f"params[{name!r}]: expected a str, int or bool, got {type(value).__name__}"
            )
    return out


def _member(cls: type[_E], value: object, what: str) -> _E:
    """`value` as a member of `cls`: a member, or a string naming one's value."""
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        for m in cls:
            if m.value == value:
                return m
        allowed = ", ".join(str(m.value) for m in cls)
        raise ValueError(f"{what}: {value!r} is not one of {allowed}")
    raise TypeError(f"{what}: expected a member of {cls.__name__}, got {type(value).__name__}")


def _options(
    base: Options | None,
    *,
    engine: Engine | None = None,
    backend: Backend | None = None,
    properties: Sequence[str] | None = None,
    max_states: int | None = None,
    timeout: float | None = None,
    symmetry: bool | None = None,
    bound: int | None = None,
) -> Options:
    if base is None:
        base = Options()
    elif not isinstance(base, Options):
        raise TypeError(f"options: expected preemptcheck.Options, got {type(base).__name__}")
    changes: dict[str, object] = {}
    if engine is not None:
        changes["engine"] = _member(Engine, engine, "engine")
    if backend is not None:
        changes["backend"] = _member(Backend, backend, "backend")
    if properties is not None:
        ids = (properties,) if isinstance(properties, str) else tuple(properties)
        if not all(isinstance(p, str) for p in ids):
            raise TypeError("properties: expected property ids (strings)")
        changes["properties"] = ids
    for key, value in (("max_states", max_states), ("timeout", timeout), ("bound", bound)):
        if value is not None:
            changes[key] = value
    if symmetry is not None:
        changes["symmetry"] = symmetry
    opts = dataclasses.replace(base, **changes)  # type: ignore[arg-type]
    _validate(opts)
    return opts


def _validate(opts: Options) -> None:
    """What the command line's option parser would refuse, refused as ValueError."""
    for key in ("max_states", "bound", "rlimit", "work_limit", "max_memory", "workers"):
        value = getattr(opts, key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"{key}: expected an int, got {type(value).__name__}")
    if opts.max_states is not None and opts.max_states < 1:
        raise ValueError(f"max_states: must be at least 1, got {opts.max_states}")
    if opts.bound < 0:
        raise ValueError(f"bound: must be at least 0, got {opts.bound}")
    if opts.timeout is not None:
        if isinstance(opts.timeout, bool) or not isinstance(opts.timeout, (int, float)):
            raise TypeError(
                f"timeout: expected seconds (a float), got {type(opts.timeout).__name__}"
            )
        if not opts.timeout > 0:
            raise ValueError(f"timeout: must be more than 0 seconds, got {opts.timeout}")
    if not isinstance(opts.symmetry, bool):
        raise TypeError(f"symmetry: expected a bool, got {type(opts.symmetry).__name__}")
