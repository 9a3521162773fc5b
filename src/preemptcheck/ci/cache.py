"""The results cache: an unchanged model is not checked again.

The key of a result is a SHA-256 over everything that decides it: the text of every file the
model reads (the file, its `extends` chain and its `check` property files), the params of
the run, the options that change verdicts (engine, limits, properties selected, symmetry),
the preemptcheck version and the preemptcheck code itself (a hash of its source files, so a
development checkout never reuses a result of other code). A CI run over a large models/
folder where one file changed rechecks that file only.

Entries are pickled ModelResults in the user's cache directory (`default_dir()`), never in
the checkout: a pickle runs code when it is loaded, and a result planted by a commit would be
believed. Each entry starts with a header line naming its key and the SHA-256 of the pickle
after it, checked before anything is unpickled: a truncated or damaged entry, or one that
belongs to another key (a copied file), is ignored with a note and rewritten, never believed.
Writes go through a temporary file and a rename; results cut short by a timeout or a signal
are never stored.
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

from preemptcheck.checking.results import ModelResult
from preemptcheck.core.version import __version__


def default_dir() -> Path:
    """The user's cache directory ($XDG_CACHE_HOME/preemptcheck, else ~/.cache/preemptcheck):
    never inside a checkout, where a commit could plant a result (the entries are pickles,
    trusted as the user's own files)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "preemptcheck"


FORMAT = 2  # bump when the entries' form changes incompatibly
_MAGIC = b"preemptcheck-cache"


@cache
def _code_hash() -> str:
    root = Path(__file__).resolve().parent.parent  # the whole package
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


def key(
    texts: tuple[tuple[str, str | None], ...], params: Mapping[str, Any], options: Mapping[str, Any]
) -> str:
    """The cache key of one model run: `texts` are (file, the text read from it)."""
    h = hashlib.sha256()
    h.update(f"preemptcheck {__version__} format {FORMAT} code {_code_hash()}\n".encode())
    h.update(f"z3 {_z3_version()}\n".encode())  # symbolic results depend on the solver
    for f, text in texts:
        assert text is not None, f"{f} was read, its text must be known"
        h.update(f"file {f} {len(text)}\n".encode())
        h.update(text.encode())
    h.update(repr(sorted((k, repr(v)) for k, v in params.items())).encode())
    h.update(repr(sorted((k, repr(v)) for k, v in options.items())).encode())
    return h.hexdigest()


class ResultCache:
    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.hits = 0
        self.misses = 0
        self.notes: list[str] = []  # entries ignored, one line each

    def _path(self, k: str) -> Path:
        return self.dir / k[:2] / f"{k}.pickle"

    def get(self, k: str) -> ModelResult | None:
        path = self._path(k)
        found = _load(path, k)
        if isinstance(found, ModelResult):
            self.hits += 1
            return dataclasses.replace(found, cached=True)
        self.misses += 1
        if found is not None:
            self.notes.append(f"results cache: {path} {found}: ignored, the model is checked again")
        return None

    def put(self, k: str, result: ModelResult) -> None:
        timed = [result.stats.limit or "", *(p.reason for p in result.properties)]
        if any("timeout" in why or "interrupted by" in why for why in timed):
            return  # depends on the machine's speed or the user (also a liveness analysis)
        payload = pickle.dumps(dataclasses.replace(result, cached=False))
        digest = hashlib.sha256(payload).hexdigest()
        header = b" ".join((_MAGIC, str(FORMAT).encode(), k.encode(), digest.encode()))
        try:
            self._ensure_dir()
            sub = self.dir / k[:2]
            sub.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=sub, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(header + b"\n" + payload)
                os.replace(tmp, sub / f"{k}.pickle")
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a read-only cache directory: run without storing

    def _ensure_dir(self) -> None:
        if not self.dir.exists():
            self.dir.mkdir(parents=True)
            (self.dir / ".gitignore").write_text("# created by preemptcheck\n*\n")


def _load(path: Path, k: str) -> ModelResult | str | None:
    """The entry's result; None when there is none; else why it cannot be believed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    header, sep, payload = data.partition(b"\n")
    fields = header.split(b" ")
    if not sep or len(fields) != 4 or fields[0] != _MAGIC or fields[1] != str(FORMAT).encode():
        return "is not a preemptcheck results-cache entry"
    if fields[2] != k.encode():
        return "belongs to another model run (its key differs)"
    if fields[3] != hashlib.sha256(payload).hexdigest().encode():
        return "is damaged or truncated (its checksum differs)"
    try:
        result = pickle.loads(payload)
    except Exception as exc:
        return f"cannot be unpickled ({type(exc).__name__})"
    if not isinstance(result, ModelResult):
        return "does not hold a model result"
    return result
