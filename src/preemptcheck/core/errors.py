"""The error tree and located diagnostics with stable PCnnn codes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from preemptcheck.core.source import NO_SPAN, SourceCache, Span, render_caret


class Code(Enum):
    """Stable diagnostic codes. The value is the code, the title is listed in the README."""

    CANNOT_READ = "PC001"
    YAML_SYNTAX = "PC002"
    DUPLICATE_KEY = "PC003"
    NOT_A_MODEL = "PC004"
    EXTENDS_MISSING = "PC005"
    EXTENDS_CYCLE = "PC006"
    TOO_LARGE = "PC007"
    UNKNOWN_KEY = "PC100"
    MISSING_KEY = "PC101"
    WRONG_TYPE = "PC102"
    UNKNOWN_NAME = "PC103"
    EXPR_SYNTAX = "PC104"
    EXPR_UNSUPPORTED = "PC105"
    TYPE_MISMATCH = "PC106"
    INVALID_VALUE = "PC107"
    NAME_CLASH = "PC108"
    BAD_INDEX = "PC109"
    CONFLICTING_ASSIGN = "PC110"
    NOT_CONSTANT = "PC111"
    DEF_CYCLE = "PC112"
    NOT_SUPPORTED_YET = "PC113"
    DOT_SYNTAX = "PC114"
    BAD_TRACE = "PC115"
    UNKNOWN_PARAM = "PC200"
    BAD_PARAM_VALUE = "PC201"
    NO_MODELS = "PC202"
    BAD_OPTION = "PC203"
    BAD_USAGE = "PC204"


CODE_TITLES: dict[Code, str] = {
    Code.CANNOT_READ: (
        "a path cannot be read (missing, a directory where a file is needed, not UTF-8)"
    ),
    Code.YAML_SYNTAX: "malformed YAML",
    Code.DUPLICATE_KEY: "a key appears twice in one mapping",
    Code.NOT_A_MODEL: "the file is not a model (top level is not a mapping, or lacks `model`)",
    Code.EXTENDS_MISSING: "`extends` or `check` names a file that does not exist",
    Code.EXTENDS_CYCLE: "`extends` forms a cycle",
    Code.TOO_LARGE: (
        "an input is past one of preemptcheck's size limits (file size, `extends` depth, "
        "nesting, expression length, declaration size, integer size); the message names it"
    ),
    Code.UNKNOWN_KEY: "a key the language does not know (with did-you-mean)",
    Code.MISSING_KEY: "a required key is missing",
    Code.WRONG_TYPE: "a value has the wrong YAML type (e.g. a list where a mapping is needed)",
    Code.UNKNOWN_NAME: "an expression or reference names something undeclared (with did-you-mean)",
    Code.EXPR_SYNTAX: "an expression is not valid Python expression syntax",
    Code.EXPR_UNSUPPORTED: "an expression uses a construct outside the language's subset",
    Code.TYPE_MISMATCH: "operand or assignment types do not match",
    Code.INVALID_VALUE: "a value is out of its allowed range (bits, range bounds, init, fields)",
    Code.NAME_CLASH: "two declarations share a name, or a reserved name is redeclared",
    Code.BAD_INDEX: "indexing, field access or an assignment target does not fit the variable",
    Code.CONFLICTING_ASSIGN: "one `do` assigns the same location twice",
    Code.NOT_CONSTANT: "a declaration needs a value computable from params alone",
    Code.DEF_CYCLE: "`defs` refer to each other in a cycle",
    Code.NOT_SUPPORTED_YET: "a documented construct this version does not check yet",
    Code.DOT_SYNTAX: (
        "a monitor automaton (.dot) is malformed: DOT syntax, the `digraph state_automaton` "
        "header, no or two initial states, an unknown state on an edge, an edge without a "
        "label, two edges for one (state, event), a bad guard or invariant"
    ),
    Code.BAD_TRACE: (
        "a trace file cannot be checked: not text (a NUL byte), timestamps going backwards, "
        "or more CPUs than the model has"
    ),
    Code.UNKNOWN_PARAM: "`--set`/`--mode` names a parameter the model does not declare",
    Code.BAD_PARAM_VALUE: "`--set`/`--mode` gives a value outside the parameter's values",
    Code.NO_MODELS: "a folder or glob given to `verify` holds no model files",
    Code.BAD_OPTION: "a command-line option has an invalid value",
    Code.BAD_USAGE: (
        "the command line is malformed: an unknown command or option, a missing argument, "
        "an option without its value"
    ),
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: Code
    message: str
    span: Span = NO_SPAN
    key_path: str = ""
    hint: str | None = None

    def headline(self) -> str:
        where = str(self.span) if self.span.line else self.span.file
        prefix = f"{where}: " if self.span != NO_SPAN else ""
        path = f"{self.key_path}: " if self.key_path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{prefix}error[{self.code.value}]: {path}{self.message}{hint}"

    def render(self, sources: SourceCache | None = None) -> str:
        text = self.headline()
        if sources is not None and self.span.line:
            line = sources.line(self.span.file, self.span.line)
            if line is not None:
                text += "\n" + render_caret(self.span, line)
        return text


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    pool = sorted({c for c in candidates if c != name})
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


class PreemptcheckError(Exception):
    """Root of every error preemptcheck raises on purpose."""


class InputError(PreemptcheckError, ValueError):
    """Bad input: carries every diagnostic the failing stage collected."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        assert self.diagnostics, "InputError without diagnostics"
        super().__init__("\n".join(d.headline() for d in self.diagnostics))


class ModelError(InputError):
    """A model or property file is malformed."""


class UsageError(InputError):
    """The command line asks for something impossible (unknown param, bad value)."""


@dataclass
class Collector:
    """Collects the diagnostics of one stage; `raise_if_any` ends the stage."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(
        self,
        code: Code,
        message: str,
        span: Span = NO_SPAN,
        key_path: str = "",
        hint: str | None = None,
    ) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, key_path, hint))

    def add(self, diags: Iterable[Diagnostic]) -> None:
        self.diagnostics.extend(diags)

    def raise_if_any(self, cls: type[InputError] = ModelError) -> None:
        if self.diagnostics:
            unique = list(dict.fromkeys(self.diagnostics))
            raise cls(sorted(unique, key=lambda d: (d.span.file, d.span.line, d.span.col)))
