"""Properties -> verdicts: finds model files, runs the engine, replays every trace, judges."""

from __future__ import annotations

import dataclasses
import functools
import glob
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any

from preemptcheck.checking import allcpus
from preemptcheck.checking.monitoring import judge_monitors
from preemptcheck.checking.options import DEFAULT_MAX_STATES, Backend, Engine
from preemptcheck.checking.options import Options as Options  # re-exported for callers
from preemptcheck.checking.responses import judge_responses, state_graph
from preemptcheck.checking.results import (
    ModelFailure,
    ModelResult,
    PropertyResult,
    RunResult,
    Stats,
    Strength,
    Verdict,
)
from preemptcheck.ci.cache import ResultCache
from preemptcheck.ci.cache import key as cache_key
from preemptcheck.core import interrupt
from preemptcheck.core.errors import (
    Code,
    Collector,
    Diagnostic,
    InputError,
    ModelError,
    UsageError,
    did_you_mean,
)
from preemptcheck.core.progress import Phase
from preemptcheck.core.source import SourceCache, Span, show_path
from preemptcheck.engines.explicit import ExplicitRun, Explorer, Progress
from preemptcheck.engines.explicit.search import AUTO_NATIVE_AFTER
from preemptcheck.engines.symmetry import analyze
from preemptcheck.model import instantiations, load_model
from preemptcheck.model.ir import Model, PropKind
from preemptcheck.model.params import show
from preemptcheck.semantics.trace import replay

# where a run is, per model path: the explicit search's counts or an engine's phase
Report = Callable[[str, Progress | Phase], None]
MODEL_SUFFIXES = (".yaml", ".yml")
LIMITS = ("state limit", "memory limit")  # how the explicit search says it ran out of room
# properties decided on the whole explicit state graph, by either engine
GRAPH_KINDS = {PropKind.LEADS_TO: "leads_to", PropKind.MONITOR: "monitor"}


def find_models(paths: Iterable[str]) -> list[str]:
    """The model files `paths` name (see walk_models), without the skipped entries."""
    return walk_models(paths)[0]


def walk_models(paths: Iterable[str]) -> tuple[list[str], tuple[str, ...]]:
    """Files as given; folders searched recursively for *.yaml, skipping `_` partials and
    hidden entries, without following symbolic links to folders (no loops); globs. Also
    what could not be searched (an unreadable folder), one line each, for a warning."""
    diags = Collector()
    out: list[str] = []
    skipped: list[str] = []
    for arg in paths:
        if not arg.strip():
            diags.error(Code.CANNOT_READ, "an empty path was given", Span("<command line>", 0, 0))
            continue
        if "\0" in arg:
            where = Span(show_path(arg), 0, 0)
            diags.error(Code.CANNOT_READ, "the path contains a NUL byte", where)
            continue
        if any(ch in arg for ch in "*?[") and not os.path.lexists(arg):
            hits = _glob_tree(arg, skipped) if "**" in arg else sorted(glob.glob(arg))
            files = [h for h in hits if os.path.isfile(h) and h.endswith(MODEL_SUFFIXES)]
            if not files:
                diags.error(Code.NO_MODELS, f"no model files match {arg}", Span(arg, 0, 0))
            out.extend(f for f in files if not os.path.basename(f).startswith("_"))
        elif os.path.isdir(arg):
            files = _walk(arg, skipped)
            if not files:
                diags.error(Code.NO_MODELS, f"no model files (*.yaml) in {arg}", Span(arg, 0, 0))
            out.extend(files)
        else:
            out.append(arg)  # read errors are reported when it is loaded
    diags.raise_if_any(UsageError)
    return list(dict.fromkeys(out)), tuple(skipped)


def _glob_tree(pattern: str, skipped: list[str]) -> list[str]:
    """`pattern` with `**` (any number of folders) matched against a walk of the folder
    before its first wildcard: glob.glob would follow symbolic links to folders, and a link
    loop would make it list paths without end. Hidden entries are skipped, as glob does."""
    parts = pattern.split("/")
    fixed = next(i for i, p in enumerate(parts) if any(ch in p for ch in "*?["))
    top = "/".join(parts[:fixed]) or ("/" if pattern.startswith("/") else ".")
    rx = re.compile(_translate("/".join(parts[fixed:])))
    if not os.path.isdir(top):
        return []
    out = []
    for path in _walk(top, skipped, suffixes=None):
        rel = os.path.relpath(path, top)
        if rx.fullmatch(rel):
            out.append(os.path.normpath(os.path.join(top, rel)) if top != "." else rel)
    return sorted(out)


def _translate(pattern: str) -> str:
    """A glob pattern (`**` any folders, `*` and `?` within a name, `[...]` sets) as a regex."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            neg = body.startswith("!")
            body = re.escape(body[1:] if neg else body).replace("\\-", "-")
            out.append(f"[{'^' if neg else ''}{body}]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def _walk(
    top: str, skipped: list[str], suffixes: tuple[str, ...] | None = MODEL_SUFFIXES
) -> list[str]:
    def unreadable(exc: OSError) -> None:
        skipped.append(f"skipped {exc.filename}: {exc.strerror or exc}")

    found: list[str] = []
    for folder, dirs, files in os.walk(top, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            path = os.path.join(folder, name)
            if suffixes is None:  # every file, for a glob to match
                if not name.startswith("."):
                    found.append(os.path.normpath(path))
            elif (
                name.endswith(suffixes)
                and not name.startswith(("_", "."))
                and os.path.isfile(path)  # follows a link to a file; false for a loop
            ):
                found.append(os.path.normpath(path))
    return sorted(found)


def check_paths(
    paths: Iterable[str],
    options: Options,
    *,
    progress: Report | None = None,
    sources: SourceCache | None = None,
) -> RunResult:
    if options.cluster is None:
        return _check_paths(paths, options, progress, sources)
    from preemptcheck.engines.cluster.connect import lazily, parse_cluster

    with lazily(parse_cluster(options.cluster)):  # Ray connected once, when first needed
        return _check_paths(paths, options, progress, sources)


def _check_paths(
    paths: Iterable[str],
    options: Options,
    progress: Report | None,
    sources: SourceCache | None,
) -> RunResult:
    sources = sources or SourceCache()
    results: list[ModelResult | ModelFailure] = []
    cache = ResultCache(options.cache_dir) if options.cache_dir is not None else None
    files, skipped = walk_models(paths)

    def notes() -> tuple[str, ...]:
        return (
            *(f"warning: {line}" for line in skipped),
            *(f"note: {line}" for line in (cache.notes if cache is not None else ())),
        )

    for n, path in enumerate(files):
        if interrupt.requested():
            return _stopped(results, options, notes(), files[n:])
        try:
            overrides = options.overrides
            if options.all_modes:
                overrides = every_mode(path, overrides, sources)
            choices = instantiations(path, overrides, sources)
        except InputError as exc:
            results.append(ModelFailure(path, exc.diagnostics))
            continue
        if options.all_cpus:  # one run for every CPU count: a sweep of it is one choice
            choices = allcpus.one_count(path, choices, sources)
        for overrides in choices:  # one run per choice of param values
            one = dataclasses.replace(options, overrides=overrides)
            try:
                results.append(
                    check_file(path, one, progress=progress, sources=sources, cache=cache)
                )
            except InputError as exc:
                failure = ModelFailure(path, exc.diagnostics)
                if failure not in results:  # the same error for each param choice: once
                    results.append(failure)
            except _Stopped:  # while the model was read: it counts as not checked
                return _stopped(results, options, notes(), files[n:])
            if interrupt.requested():
                return _stopped(results, options, notes(), files[n + 1 :])
    return RunResult(tuple(results), strict=options.strict, notes=notes())


class _Stopped(Exception):
    """A signal came while a model was being read, before any engine ran on it."""


def _stopped(
    results: list[ModelResult | ModelFailure],
    options: Options,
    notes: tuple[str, ...],
    unchecked: list[str],
) -> RunResult:
    return RunResult(
        tuple(results),
        strict=options.strict,
        notes=notes,
        interrupted=interrupt.requested(),
        unchecked=tuple(unchecked),
    )


def every_mode(path: str, overrides: Mapping[str, str], sources: SourceCache) -> dict[str, str]:
    """`overrides` with `mode` set to every value the model's `mode` param lists (a model
    without one is left as it is): `--all-modes` is `--set mode=V1,V2,...`."""
    loaded = load_model(path, sources=sources, allow_any_cpus=True)
    mode = next((p for p in loaded.params if p.name == "mode"), None)
    if mode is None:
        return dict(overrides)
    return {**overrides, "mode": ",".join(show(v) for v in mode.values)}


def check_file(
    path: str,
    options: Options,
    *,
    progress: Report | None = None,
    sources: SourceCache | None = None,
    cache: ResultCache | None = None,
) -> ModelResult:
    sources = sources or SourceCache()
    model = load_model(path, overrides=options.overrides, sources=sources, allow_any_cpus=True)
    model = select_properties(model, options.properties)
    if interrupt.requested():
        raise _Stopped
    if cache is None:
        return check_model(path, model, options, progress)
    k = _cache_key(model, options, sources)
    hit = cache.get(k)
    if hit is not None:
        return hit
    result = check_model(path, model, options, progress)
    cache.put(k, result)
    return result


def _cache_key(model: Model, options: Options, sources: SourceCache) -> str:
    """Over the very texts the model was built from (not the files again: they may have
    changed since)."""
    settings = {
        k: str(v) if isinstance(v, StrEnum) else v for k, v in options.keyed_settings().items()
    }
    texts = tuple((f, sources.text(f)) for f in model.files or (model.file,))
    return cache_key(texts, dict(model.param_values), settings)


def check_model(
    path: str,
    model: Model,
    options: Options,
    progress: Report | None,
) -> ModelResult:
    """One loaded model (one choice of params) checked with `options`: the engine, the
    replay of every trace, the properties decided on the state graph. No results cache.
    A model with `cpus: any` is checked for every number of CPUs (as --all-cpus does) by
    the symbolic engine, and refused by the explicit one, which needs a number."""
    if model.cpus_any is not None and options.engine == Engine.explicit:
        raise ModelError(
            [
                Diagnostic(
                    Code.NOT_SUPPORTED_YET,
                    "`any` (every number of CPUs): the explicit engine checks one "
                    "number; give it (cpus: 4), or use --engine symbolic, which proves "
                    "the invariants for every number (as --all-cpus does)",
                    model.cpus_any,
                    "cpus",
                )
            ]
        )
    if options.all_cpus or model.cpus_any is not None:
        return allcpus.check_all_cpus(
            model, options, fixed_engine=check_symbolic, progress=_for(path, progress)
        )
    if options.engine == Engine.symbolic:
        return check_symbolic(model, options, progress=_for(path, progress))
    explorer = Explorer(model, backend=options.backend, workers=options.workers)
    notes: list[str] = []
    if options.symmetry or model.symmetry is not None:
        analysis = analyze(model)
        reason = analysis.reason
        if analysis.classes:
            try:
                explorer.reduce_symmetry(analysis)
            except ValueError as exc:  # too many permutations to try per state
                reason = str(exc)
        if explorer.symmetry is None:
            if model.symmetry is not None:
                raise ModelError(
                    [
                        Diagnostic(
                            Code.INVALID_VALUE,
                            f"cpus is declared, but the CPUs cannot be reduced by "
                            f"symmetry: {reason}",
                            model.symmetry,
                            "symmetry",
                        )
                    ]
                )
            notes.append(f"no symmetry reduction: {reason}")
    cb = _for(path, progress)
    search = functools.partial(
        explorer.run,
        max_states=options.max_states,
        default_max_states=DEFAULT_MAX_STATES,
        timeout=options.timeout,
        fail_fast=options.fail_fast,
        progress=cb,
        max_memory=options.max_memory,
    )
    if options.cluster is not None:  # partitioned across Ray's workers: the same run
        from preemptcheck.engines.cluster.search import run_on_cluster

        run = run_on_cluster(
            explorer,
            options.cluster,
            timeout=options.timeout,
            progress=cb,
            max_memory=options.max_memory,
            single=search,
        )
    else:
        run = search()
    result = judge(model, run, notes=[*notes, *run.notes])
    result = _judge_on_graph(
        result, explorer, None if run.complete else run.limit, options, _phases(path, progress)
    )
    if options.engine == Engine.auto and run.limit is not None and run.limit.startswith(LIMITS):
        return check_symbolic(
            model,
            options,
            progress=_for(path, progress),
            notes=(
                (
                    f"the explicit search reached --max-states {options.state_cap():,}"
                    if run.limit.startswith("state limit")
                    else f"the explicit search stopped ({run.limit})"
                )
                + ": the symbolic engine decided instead",
            ),
        )
    return result


def _phases(path: str, progress: Report | None) -> Callable[[str], None] | None:
    """A phase reporter for `path` (elapsed from now): for the work after the search."""
    if progress is None:
        return None
    t0 = time.monotonic()
    return lambda text: progress(path, Phase(text, time.monotonic() - t0))


def _for(path: str, progress: Report | None) -> Callable[[Any], None] | None:
    """The engine's progress callback: `progress` with the model's path."""
    if progress is None:
        return None
    return lambda event: progress(path, event)


def check_symbolic(
    model: Model,
    options: Options,
    *,
    notes: Iterable[str] = (),
    progress: Callable[[Phase], None] | None = None,
) -> ModelResult:
    """Bounded model checking and k-induction on z3; every trace is replayed first."""
    from preemptcheck.engines.symbolic import Symbolic  # z3 is loaded only when asked for

    t0 = time.monotonic()
    deadline = t0 + options.timeout if options.timeout else None
    run = Symbolic(model, deadline=deadline).run(
        bound=options.bound,
        rlimit=options.rlimit,
        work_limit=options.work_limit,
        deadline=deadline,
        phase=(
            (lambda text: progress(Phase(f"symbolic: {text}", time.monotonic() - t0)))
            if progress is not None
            else None
        ),
    )
    results: list[PropertyResult] = []
    for out, prop in zip(run.outcomes, model.properties, strict=True):
        witness_kind = prop.kind in (PropKind.REACHABLE, PropKind.REACHABLE_ACTION)
        trace = out.trace
        if trace is not None:
            replay(model, prop, trace)
        if out.status == "violated":
            v, st, why = Verdict.VIOLATED, Strength.COUNTEREXAMPLE, trace.message if trace else ""
        elif out.status == "witnessed":
            v, st, why = Verdict.HOLDS, Strength.WITNESS, ""
        elif out.status == "proved":
            v, st, why = Verdict.HOLDS, Strength.INDUCTIVE, out.reason
        elif out.status == "unreachable":
            v, st, why = Verdict.VIOLATED, Strength.INDUCTIVE, f"unreachable, {out.reason}"
        elif out.status == "bounded" and not witness_kind:
            v, st, why = Verdict.BOUNDED, Strength.BOUNDED, str(out.depth)
        elif out.status == "bounded":
            v, st, why = Verdict.UNKNOWN, Strength.NONE, f"no witness within depth {out.depth}"
        else:
            v, st, why = Verdict.UNKNOWN, Strength.NONE, out.reason or "unknown"
        results.append(
            PropertyResult(
                prop.id,
                prop.kind,
                v,
                st,
                prop.expect,
                why or "",
                trace,
                prop.doc,
                prop.span,
                cti=out.cti if v == Verdict.BOUNDED else None,
            )
        )
    conclusive = all(r.verdict in (Verdict.HOLDS, Verdict.VIOLATED) for r in results)
    limit = None
    if any(r.verdict == Verdict.UNKNOWN and "interrupted by" in r.reason for r in results):
        limit = interrupt.reason()
    elif any(r.verdict == Verdict.UNKNOWN and "--timeout" in r.reason for r in results):
        limit = f"--timeout {options.timeout:g} s"
    elif any(r.verdict == Verdict.UNKNOWN and "work limit" in r.reason for r in results):
        limit = f"--work-limit {options.work_limit:,}"
    elif any(r.verdict == Verdict.UNKNOWN and "gave up at" in r.reason for r in results):
        limit = f"z3 gave up within --rlimit {options.rlimit:,}" if options.rlimit else "z3 gave up"
    elif not conclusive:
        limit = f"--bound {run.bound}"
    stats = Stats(None, None, run.depth, conclusive, limit, 0, run.elapsed)
    result = ModelResult(
        model.file,
        model.name,
        model.param_values,
        "symbolic",
        stats,
        tuple(results),
        (),
        (),
        model.skipped,
        (),
        model,
        tuple(notes),
        run.invariants,
        run.unwritten,
    )
    if not any(p.kind in GRAPH_KINDS for p in model.properties):
        return result
    after = (
        (lambda text: progress(Phase(text, time.monotonic() - t0)))
        if progress is not None
        else None
    )
    result = _judge_on_graph(result, Explorer(model), None, options, after)
    done = _conclusive(result)
    what = " and ".join(
        sorted({GRAPH_KINDS[p.kind] for p in model.properties if p.kind in GRAPH_KINDS})
    )
    return dataclasses.replace(
        result,
        stats=dataclasses.replace(stats, complete=done, limit=None if done else stats.limit),
        notes=(*result.notes, f"{what} properties are decided on the explicit state graph"),
    )


def _judge_on_graph(
    result: ModelResult,
    explorer: Explorer,
    reason: str | None,
    options: Options,
    phase: Callable[[str], None] | None = None,
) -> ModelResult:
    """The properties decided on the whole explicit state graph (leads_to, monitors), on one
    graph built for all of them (`reason`: why they cannot be decided)."""
    if not any(p.kind in GRAPH_KINDS for p in result.model.properties):
        return result
    # after a native search the graph is built natively, bounded like the search itself;
    # after a cluster's, as the search on this machine would have run (the same graph)
    native = result.stats.backend == "native"
    if result.stats.backend == "cluster":
        states = result.stats.states or 0
        native = options.backend == Backend.native or states > AUTO_NATIVE_AFTER
    cap = options.max_states if native else options.state_cap()
    graph, reason = state_graph(
        result,
        explorer,
        reason,
        max_states=cap,
        timeout=options.timeout,
        phase=phase,
        native=native,
    )
    kinds = {p.kind for p in result.model.properties}
    if phase is not None and graph is not None and PropKind.LEADS_TO in kinds:
        phase(f"leads_to properties on the state graph ({len(graph):,} states)")
    result = judge_responses(result, explorer, graph, reason)
    if phase is not None and graph is not None and PropKind.MONITOR in kinds:
        phase(f"monitors: their product with the state graph ({len(graph):,} states)")
    return judge_monitors(
        result,
        explorer,
        graph,
        reason,
        max_states=options.state_cap(),
        timeout=options.timeout,
    )


def _conclusive(result: ModelResult) -> bool:
    return all(p.verdict in (Verdict.HOLDS, Verdict.VIOLATED) for p in result.properties)


def select_properties(model: Model, ids: tuple[str, ...]) -> Model:
    """The model with only the properties `ids` (and the built-ins); a usage error names an
    id the model does not have."""
    if not ids:
        return model
    known = [p.id for p in model.properties] + [s for s, _ in model.skipped]
    diags = Collector()
    for pid in ids:
        if pid not in known:
            diags.error(
                Code.BAD_OPTION,
                f"--property {pid}: no such property in this model",
                Span(model.file, 0, 0),
                hint=did_you_mean(pid, known),
            )
    diags.raise_if_any(UsageError)
    keep = tuple(p for p in model.properties if p.id in ids or p.builtin)
    return dataclasses.replace(model, properties=keep)


def judge(model: Model, run: ExplicitRun, *, notes: Iterable[str] = ()) -> ModelResult:
    """Turn an engine run into verdicts; every trace is replayed first (ReplayError if not)."""
    found = {f.prop_index: f.trace for f in run.findings}
    results: list[PropertyResult] = []
    for pi, prop in enumerate(model.properties):
        trace = found.get(pi)
        if trace is not None:
            replay(model, prop, trace)
        witness = prop.kind in (PropKind.REACHABLE, PropKind.REACHABLE_ACTION)
        if trace is not None:
            verdict = Verdict.HOLDS if witness else Verdict.VIOLATED
            strength = Strength.WITNESS if witness else Strength.COUNTEREXAMPLE
            reason = trace.message or ""
        elif run.complete and pi in run.eval_errors:
            verdict, strength = Verdict.UNKNOWN, Strength.NONE
            reason = (
                "no witness, and it cannot be evaluated in some reachable states "
                "(see the range property)"
            )
        elif run.complete:
            verdict = Verdict.VIOLATED if witness else Verdict.HOLDS
            strength = Strength.EXHAUSTIVE
            reason = (
                (
                    "no reachable state satisfies it"
                    if prop.kind == PropKind.REACHABLE
                    else "no reachable step matches it"
                )
                if witness
                else ""
            )
        else:
            verdict, strength, reason = Verdict.UNKNOWN, Strength.NONE, run.limit or ""
        results.append(
            PropertyResult(
                prop.id,
                prop.kind,
                verdict,
                strength,
                prop.expect,
                reason,
                trace,
                prop.doc,
                prop.span,
            )
        )
    warnings: list[str] = []
    if run.complete:
        for action, n in run.coverage:
            if n == 0 and action not in run.disabled:
                warnings.append(
                    f"action {action} is never enabled in a reachable state: "
                    "a property over it proves nothing"
                )
    stats = Stats(
        run.states,
        run.transitions,
        run.depth,
        run.complete,
        run.limit,
        run.state_bits,
        run.elapsed,
        run.symmetry,
        run.full_states,
        run.backend,
    )
    return ModelResult(
        model.file,
        model.name,
        model.param_values,
        "explicit",
        stats,
        tuple(results),
        run.coverage,
        tuple(warnings),
        model.skipped,
        tuple(a.name for a in model.actions if a.name in run.disabled),
        model,
        tuple(notes),
    )
