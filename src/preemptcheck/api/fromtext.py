"""Models read from strings: the loader reads files, so the text is loaded from a temporary
file, and the errors and models that name that file are given the string's name instead."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Iterator

from preemptcheck.api.output import SOURCE_ATTR
from preemptcheck.core.errors import Code, InputError
from preemptcheck.core.source import Span
from preemptcheck.model.ir import Model


@contextlib.contextmanager
def scratch_file(text: str, base_dir: str | None) -> Iterator[tuple[str, str | None]]:
    """A temporary file holding `text`, removed afterwards, and the private folder holding
    it (None when it is in `base_dir`, hidden)."""
    with contextlib.ExitStack() as stack:
        if base_dir is None:
            private: str | None = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="preemptcheck-")
            )
            folder = private
        else:
            private, folder = None, base_dir
        fd, file = tempfile.mkstemp(prefix=".preemptcheck-", suffix=".yaml", dir=folder)
        try:
            with open(fd, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            yield file, private
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(file)


def renamed_error(
    exc: InputError, file: str, name: str, text: str, private: str | None
) -> InputError:
    """`exc` with the temporary file called `name` (and paths in the private folder shown
    as the relative paths the text wrote)."""

    def fix(s: str) -> str:
        s = s.replace(file, name)
        return s.replace(private + os.sep, "") if private is not None else s

    diags = []
    for d in exc.diagnostics:
        span = dataclasses.replace(d.span, file=name) if d.span.file == file else d.span
        hint = fix(d.hint) if d.hint is not None else None
        if private is not None and d.code == Code.EXTENDS_MISSING and hint is None:
            hint = "a model read from a string has no folder: give loads() a base_dir"
        diags.append(dataclasses.replace(d, span=span, message=fix(d.message), hint=hint))
    error = type(exc)(diags)
    setattr(error, SOURCE_ATTR, (name, text))  # for render_error's source lines
    return error


def renamed_model(model: Model, file: str, name: str) -> Model:
    """`model` with its file called `name`, wherever a result shows it."""

    def span(s: Span) -> Span:
        return dataclasses.replace(s, file=name) if s.file == file else s

    return dataclasses.replace(
        model,
        file=name,
        files=tuple(name if f == file else f for f in model.files),
        params=tuple(dataclasses.replace(p, span=span(p.span)) for p in model.params),
        vars=tuple(dataclasses.replace(v, span=span(v.span)) for v in model.vars),
        actions=tuple(dataclasses.replace(a, span=span(a.span)) for a in model.actions),
        properties=tuple(dataclasses.replace(p, span=span(p.span)) for p in model.properties),
        symmetry=span(model.symmetry) if model.symmetry is not None else None,
    )
