"""Output files (--junit, --sarif, --trace-dir): checked before a run, written whole or never."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from preemptcheck.core.errors import Code, Diagnostic, UsageError
from preemptcheck.core.source import show_path

NAME_MAX = 255  # bytes in one path component on Linux file systems


def check_writable(option: str, path: Path, *, directory: bool = False) -> None:
    """UsageError (exit 2) unless `path` can be written after the run: its name fits, no
    file is in the way, and the nearest existing folder takes a new file (tried for real,
    which also catches a read-only file system). Missing folders are created when written."""
    why = _unwritable(path, directory=directory)
    if why is not None:
        text = f"{option} {show_path(str(path))}: {why}"
        raise UsageError([Diagnostic(Code.BAD_OPTION, text)])


def same_file(a: Path, b: Path) -> bool:
    """Whether two output paths name one file (after `..`, symbolic links, `./`)."""
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return str(a) == str(b)


def _unwritable(path: Path, *, directory: bool) -> str | None:
    raw = str(path)
    if "\0" in raw:
        return "the path contains a NUL byte"
    for part in path.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            return f"a name in the path is longer than {NAME_MAX} bytes"
    try:
        if path.is_dir() and not directory:
            return "is a directory, give a file name"
        if path.exists() and directory and not path.is_dir():
            return "is a file, give a folder"
        if path.is_file() and not os.access(path, os.W_OK):
            return "cannot write: permission denied"
        folder = path if directory else path.parent
        while not folder.exists():
            if folder.is_symlink():
                return f"cannot write: {folder} is a broken symbolic link"
            folder = folder.parent
        if not folder.is_dir():
            return f"cannot write: {folder} is not a folder"
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".preemptcheck-probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"cannot write: {exc.strerror or exc}"
    return None


def write_atomic(path: Path, content: str) -> None:
    """Write via a temporary file in the same folder and a rename: never a half-written file
    (an interrupted write removes its temporary file). OSError if it cannot be written.
    A file name that is not UTF-8 (decoded with surrogates) is written with its odd bytes
    as `\\udcXX` escapes, so the file stays valid UTF-8. The file gets the mode a plain
    open() would give it: an existing file's, else 0666 less the umask (mkstemp's is 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:200]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(content)
            os.fchmod(fh.fileno(), _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
        os.umask(mask)
        return 0o666 & ~mask


def file_base(base: str) -> str:
    """`base`, shortened (with a hash of the whole, to stay distinct) so that a suffix of up
    to 12 characters keeps the name within NAME_MAX: the stem of an output file named after
    a model, its params and a property."""
    if len(base.encode()) + 12 <= NAME_MAX:
        return base
    digest = hashlib.sha256(base.encode()).hexdigest()[:12]
    return f"{base.encode()[:200].decode('utf-8', 'ignore')}~{digest}"
