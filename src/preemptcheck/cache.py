"""The results cache: an unchanged model is not checked again.

The key of a result is a SHA-256 over everything that decides it: the text of every file the
model reads (the file, its `extends` chain and its `check` property files), the params of
the run, the options that change verdicts (engine, limits, properties selected, symmetry),
the preemptcheck version and the preemptcheck code itself (a hash of its source files, so a
development checkout never reuses a result of other code). A CI run over a large models/
folder where one file changed rechecks that file only.

Entries are pickled ModelResults in the user's cache directory (`default_dir()`), never in
the checkout: a pickle runs code when it is loaded, and a result planted by a commit would be
believed. A cache entry that cannot be read is ignored and rewritten; writes go through a
temporary file and a rename; results cut short by a timeout are never stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import tempfile
from collections.abc import Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from preemptcheck import __version__
from preemptcheck.results import ModelResult


def default_dir() -> Path:
    """The user's cache directory ($XDG_CACHE_HOME/preemptcheck, else ~/.cache/preemptcheck):
    never inside a checkout, where a commit could plant a result (the entries are pickles,
    trusted as the user's own files)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "preemptcheck"


FORMAT = 1  # bump when the pickled form changes incompatibly


@cache
def _code_hash() -> str:
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@cache
def _z3_version() -> str:
    try:
        return metadata.version("z3-solver")
    except metadata.PackageNotFoundError:
        return "none"


def key(files: tuple[str, ...], params: Mapping[str, Any], options: Mapping[str, Any]) -> str:
    """The cache key of one model run (OSError if a file cannot be read: then no caching)."""
    h = hashlib.sha256()
    h.update(f"preemptcheck {__version__} format {FORMAT} code {_code_hash()}\n".encode())
    h.update(f"z3 {_z3_version()}\n".encode())  # symbolic results depend on the solver
    for f in files:
        h.update(f"file {f}\n".encode())
        h.update(Path(f).read_bytes())
    h.update(repr(sorted((k, repr(v)) for k, v in params.items())).encode())
    h.update(repr(sorted((k, repr(v)) for k, v in options.items())).encode())
    return h.hexdigest()


class ResultCache:
    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.hits = 0
        self.misses = 0

    def get(self, k: str) -> ModelResult | None:
        path = self.dir / k[:2] / f"{k}.pickle"
        try:
            with path.open("rb") as fh:
                result = pickle.load(fh)
        except FileNotFoundError:
            self.misses += 1
            return None
        except Exception:  # a damaged or foreign entry: check again, then overwrite it
            self.misses += 1
            return None
        if not isinstance(result, ModelResult):
            self.misses += 1
            return None
        self.hits += 1
        return dataclasses.replace(result, cached=True)

    def put(self, k: str, result: ModelResult) -> None:
        timed = [result.stats.limit or "", *(p.reason for p in result.properties)]
        if any("timeout" in why for why in timed):
            return  # depends on the machine's speed (also a liveness analysis cut short)
        try:
            self._ensure_dir()
            sub = self.dir / k[:2]
            sub.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=sub, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(dataclasses.replace(result, cached=False), fh)
                os.replace(tmp, sub / f"{k}.pickle")
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a read-only checkout: run without a cache

    def _ensure_dir(self) -> None:
        if not self.dir.exists():
            self.dir.mkdir(parents=True)
            (self.dir / ".gitignore").write_text("# created by preemptcheck\n*\n")
