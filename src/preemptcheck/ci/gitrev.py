"""A git revision's models, checked in a temporary worktree beside the working tree's."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from preemptcheck.checking.check import Report, check_paths, find_models
from preemptcheck.checking.diff import Diff, compare
from preemptcheck.checking.options import Options
from preemptcheck.checking.results import ModelFailure, ModelResult, RunResult
from preemptcheck.core.errors import Code, Diagnostic, UsageError
from preemptcheck.core.source import NO_SPAN, SourceCache

DEFAULT_PATH = "models"  # checked when no path is given and it exists; else the whole tree


def _usage(message: str, code: Code = Code.BAD_OPTION) -> UsageError:
    return UsageError([Diagnostic(code, message)])


def _git(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(where), *args],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise _usage("git is not installed (diff checks out a revision with git)") from None


def _why(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"git exited with {proc.returncode}"


def repo_root(cwd: Path) -> Path:
    """The top of the git working tree `cwd` is in."""
    proc = _git(cwd, "rev-parse", "--show-toplevel")
    if proc.returncode != 0 or not proc.stdout.strip():
        raise _usage(
            f"not a git repository: {cwd} (diff compares the working tree with a revision "
            "of its repository)"
        )
    return Path(proc.stdout.strip()).resolve()


def resolve(root: Path, revision: str) -> str:
    """The commit id `revision` names in the repository at `root`."""
    proc = None
    if revision and not revision.startswith("-"):  # never read as an option of git
        proc = _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if proc is None or proc.returncode != 0:
        raise _usage(f"unknown revision '{revision}': not a commit of the repository at {root}")
    return proc.stdout.strip()


@contextlib.contextmanager
def worktree(root: Path, commit: str) -> Iterator[Path]:
    """A detached checkout of `commit` in a temporary folder, removed afterwards (also on
    errors) and pruned from the repository's list of worktrees."""
    with tempfile.TemporaryDirectory(prefix="preemptcheck-diff-") as tmp:
        tree = Path(tmp) / "base"
        proc = _git(root, "worktree", "add", "--detach", "--quiet", str(tree), commit)
        try:
            if proc.returncode != 0:
                raise _usage(f"cannot check out {commit[:12]} into {tree}: {_why(proc)}")
            yield tree.resolve()
        finally:
            _git(root, "worktree", "remove", "--force", str(tree))
            _git(root, "worktree", "prune")


def diff_revision(
    base: str,
    paths: Sequence[str],
    options: Options,
    *,
    cwd: Path | None = None,
    progress: Report | None = None,
) -> Diff:
    """Check `paths` at revision `base` and in the working tree (the files on disk), with
    the same options, and compare. Paths are taken relative to `cwd` and matched by their
    path relative to the repository root; by default `models/`, else the whole tree."""
    cwd = (cwd or Path.cwd()).resolve()
    root = repo_root(cwd)
    commit = resolve(root, base)
    rels = [_in_repo(root, cwd, p) for p in paths]
    with worktree(root, commit) as tree:
        if not rels:
            has_default = (root / DEFAULT_PATH).is_dir() or (tree / DEFAULT_PATH).is_dir()
            rels = [DEFAULT_PATH if has_default else "."]
        before_files = [_models(tree, rel) for rel in rels]
        after_files = [_models(root, rel) for rel in rels]
        for rel, b, a in zip(rels, before_files, after_files, strict=True):
            if not a and not b:
                raise _usage(
                    f"no model files in {rel} at {base} or in the working tree", Code.NO_MODELS
                )

        def side(name: str, top: Path) -> Report | None:
            if progress is None:
                return None
            report = progress
            return lambda path, p: report(f"{name}{_rel(path, top)}", p)

        before = check_paths(
            _flat(before_files), options, progress=side(f"{base}:", tree), sources=SourceCache()
        )
        after = check_paths(
            _flat(after_files), options, progress=side("", root), sources=SourceCache()
        )
        before, after = relative(before, tree), relative(after, root)
    return dataclasses.replace(compare(before, after), base=base, commit=commit, paths=tuple(rels))


def _in_repo(root: Path, cwd: Path, path: str) -> str:
    full = os.path.normpath(os.path.join(cwd, path))
    rel = os.path.relpath(full, root)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        raise _usage(f"{path} is outside the repository at {root}")
    return Path(rel).as_posix()


def _models(top: Path, rel: str) -> list[str]:
    """The model files `rel` names under `top`; none where it does not exist there."""
    path = os.path.normpath(top / rel)
    if not any(ch in rel for ch in "*?[") and not os.path.exists(path):
        return []
    try:
        return find_models([path])
    except UsageError:  # a folder or glob without models on this side
        return []


def _flat(files: list[list[str]]) -> list[str]:
    return list(dict.fromkeys(f for group in files for f in group))


def _rel(path: str, top: Path) -> str:
    full = os.path.normpath(os.path.join(top, path))
    if full == str(top) or full.startswith(str(top) + os.sep):
        return Path(os.path.relpath(full, top)).as_posix()
    return path


def relative(run: RunResult, top: Path) -> RunResult:
    """The run with every file named relative to `top`, the root its side was checked in."""
    prefix = str(top) + os.sep

    def diag(d: Diagnostic) -> Diagnostic:
        span = (
            dataclasses.replace(d.span, file=_rel(d.span.file, top))
            if d.span != NO_SPAN
            else d.span
        )
        hint = d.hint.replace(prefix, "") if d.hint else d.hint
        return dataclasses.replace(d, span=span, message=d.message.replace(prefix, ""), hint=hint)

    models: list[ModelResult | ModelFailure] = []
    for m in run.models:
        if isinstance(m, ModelFailure):
            models.append(ModelFailure(_rel(m.file, top), tuple(diag(d) for d in m.diagnostics)))
        else:
            models.append(dataclasses.replace(m, file=_rel(m.file, top)))
    return dataclasses.replace(run, models=tuple(models))
