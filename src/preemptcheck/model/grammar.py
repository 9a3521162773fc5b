"""What a model file may contain: every mapping's keys, the shape of each value, closed sets.

The loader checks keys against these descriptions (schema.keys), and model/jsonschema.py turns
them into docs/model.schema.json for editors: the two cannot disagree on what a key is.
Checks that need the model's declarations (names, types of expressions, ranges) stay in the
loader; the shapes here are what can be told from one file's YAML alone.
"""

from __future__ import annotations

import keyword

from preemptcheck.model.ir import BUILTIN_PROPERTIES, MODES, MONITOR_TYPES, ROLES, Expect
from preemptcheck.model.schema import IDENT, PROP_ID, RESERVED
from preemptcheck.model.shapes import AnyOf, Key, ListOf, MapOf, Obj, Scalar, Variant

# CONFIG_NR_CPUS at its largest (x86 MAXSMP): the symbolic engines reach such counts, the
# explicit one will not
MAX_CPUS = 8192
MAX_WORD_BITS = 64
VAR_TYPES = ("bool", "int", "enum", "word")
ROLE_TYPES = {
    "preempt_count": "word",
    "irqs_disabled": "bool",
    "need_resched": "bool",
    "need_resched_lazy": "bool",
    "current_task": "enum",
}
EXPECTS = tuple(e.value for e in Expect)
DEADLOCK = ("error", "allowed")
SYMMETRIES = ("cpus",)
START = (True, False, "run")
_KEYWORDS = tuple(keyword.kwlist)

# ---------------------------------------------------------------- scalars

TEXT = Scalar(("string",), "Free text, for people.", name="text")
EXPR = Scalar(
    ("string", "integer", "boolean"),
    "An expression in Python syntax over vars, defs, params, `self` and bindings.",
    name="expr",
)
CONST = Scalar(
    ("string", "integer", "boolean"),
    "A number, or an expression over params and literals (no state variables).",
    name="const",
)
NAME = Scalar(
    ("string",),
    "An identifier, not a Python keyword.",
    name="name",
    pattern=IDENT,
    reserved=_KEYWORDS,
)
DECL_NAME = Scalar(
    ("string",),
    "An identifier that is neither a Python keyword nor reserved by the language "
    f"({', '.join(sorted(RESERVED))}).",
    name="declared_name",
    pattern=IDENT,
    reserved=(*_KEYWORDS, *sorted(RESERVED)),
)
WORD = Scalar(("string",), "A name (an action, tag:TAG, an event).", name="word", pattern=r"\S")
NAMES = ListOf(DECL_NAME, "A non-empty list of distinct names.", "names", min_items=1, unique=True)
SELECTOR = AnyOf(
    (WORD, ListOf(WORD, min_items=1)),
    "An action name or tag:TAG, or a list of them.",
    name="selector",
)
PATHS = AnyOf(
    (Scalar(("string",), pattern=r"."), ListOf(Scalar(("string",), pattern=r"."))),
    "A path relative to this file, or a list of them.",
    name="paths",
)
DOMAIN = AnyOf(
    (Scalar(("string",)), ListOf(CONST, min_items=2, max_items=2)),
    "`cpus`, `tasks`, the name of an enum, or [lo, hi].",
    name="domain",
)
MODE = Scalar(("string",), "A preemption mode.", name="mode", enum=MODES)
VERDICT = Scalar(("string",), "The verdict a run expects.", name="verdict", enum=EXPECTS)

# ---------------------------------------------------------------- params

_PARAM_VALUE = Scalar(
    ("integer", "boolean", "string"),
    "An integer, a boolean or a name.",
    pattern=IDENT,
    reserved=DECL_NAME.reserved,
)


def _param(value: Scalar, title: str, name: str) -> tuple[Obj, AnyOf]:
    """A param's mapping form, and all its forms."""
    fields = (
        Key(
            "values",
            ListOf(value, min_items=1),
            "The values a run may choose; the first is the default.",
        ),
        Key("default", value, "The value used unless --set chooses another."),
        Key("sweep", Scalar(("boolean",)), "true: one run checks every value."),
        Key("doc", TEXT, "What the param stands for."),
    )
    full = Obj(title, fields, required=("values",))
    return full, AnyOf(
        (value, ListOf(value, min_items=1), full),
        "A value, a list of values (the first is the default), or {values, default, sweep}.",
        name=name,
    )


PARAM_MAP, PARAM = _param(_PARAM_VALUE, "param", "param")
_, MODE_PARAM = _param(MODE, "mode param", "mode_param")

# ---------------------------------------------------------------- variables

_BOUNDS = ListOf(CONST, "[lo, hi]", min_items=2, max_items=2)
VAR = Obj(
    "variable",
    (
        Key("type", Scalar(("string",), enum=VAR_TYPES), "bool, int, enum or word."),
        Key(
            "bits",
            Scalar(CONST.types, minimum=1, maximum=MAX_WORD_BITS),
            f"A word's width, 1 to {MAX_WORD_BITS}.",
        ),
        Key(
            "fields",
            MapOf(ListOf(CONST, "[shift, width]", min_items=2, max_items=2), names=NAME),
            "A word's fields: {name: [shift, width]}. Overlapping fields are read-only views.",
        ),
        Key("range", _BOUNDS, "An int's bounds, [lo, hi]."),
        Key("values", NAMES, "An enum's values."),
        Key("of", DOMAIN, "An enum over a domain: tasks, a named enum, [lo, hi]."),
        Key("index", DOMAIN, "One copy per value of a domain: cpus, tasks, an enum, [lo, hi]."),
        Key(
            "init",
            AnyOf((CONST, ListOf(CONST))),
            "The initial value, or a list of them, one per index value. "
            "Defaults: false, lo, the first value, 0.",
        ),
        Key(
            "role",
            Scalar(("string",), enum=ROLES),
            "What the variable is in the kernel: traces decode it, violations name the BUG.",
            implies=tuple((role, "type", typ) for role, typ in ROLE_TYPES.items()),
        ),
        Key("doc", TEXT, "What the variable stands for."),
    ),
    "A state variable: bool, int (range), enum (values or of) or word (bits, fields).",
    name="var",
    required=("type",),
    tag="type",
    variants=(
        Variant("bool"),
        Variant("int", ("range",), required=("range",)),
        Variant("enum", ("values", "of"), one_of=("values", "of")),
        Variant("word", ("bits", "fields"), required=("bits",)),
    ),
)

# ---------------------------------------------------------------- actions

ASSIGNS = MapOf(
    EXPR,
    "A simultaneous assignment {target: expression}; a target is v, v[i], v.field or "
    "v[i].field (write keys with [ ] in block style).",
    name="assigns",
    nullable=True,
)
EMIT_ITEM = Obj(
    "emission",
    (
        Key("event", NAME, "The kernel event.", missing="emit: each entry needs event:"),
        Key("if", EXPR, "Emitted only when this holds."),
    ),
    "An event with a condition and attributes (any other key: ATTR: expression).",
    name="emission",
    required=("event",),
    extra=EXPR,
    extra_names=DECL_NAME,
)
EMITS = AnyOf(
    (NAME, EMIT_ITEM, ListOf(AnyOf((NAME, EMIT_ITEM)))),
    "The events emitted, in order: NAME or {event: NAME, if: COND, ATTR: EXPR}.",
    name="emits",
)
_DOC = Key("doc", TEXT, "What it stands for in the kernel.")
_WHEN = Key("when", EXPR, "The guard, in the pre-state.")
STEP = Obj(
    "step",
    (
        _DOC,
        Key("when", EXPR, "The step waits until this holds."),
        Key("if", EXPR, "When false, the step does nothing."),
        Key("do", ASSIGNS, "The step's simultaneous assignment."),
        Key("emit", EMITS, "The events the step emits."),
    ),
    "One atomic step of a non-atomic sequence.",
    name="step",
)
ACTION = Obj(
    "action",
    (
        _DOC,
        Key("on", Scalar(CONST.types, minimum=0), "Pin the action to this CPU."),
        Key("for", MapOf(DOMAIN, names=DECL_NAME), "Bindings {name: domain}: one instance each."),
        _WHEN,
        Key("do", ASSIGNS, "A simultaneous assignment."),
        Key("steps", ListOf(STEP, min_items=1), "A non-atomic sequence of steps."),
        Key(
            "irq",
            Scalar(("boolean",)),
            "true: asynchronous, may run between two steps of a sequence (atomic itself).",
            excludes=("steps",),
            excludes_if=True,
        ),
        Key(
            "event",
            AnyOf((Scalar(("boolean",), enum=(False,)), NAME, ListOf(NAME))),
            "The event(s) the action emits (default: its name; false: none).",
        ),
        Key(
            "emit",
            EMITS,
            "Events with conditions and attributes (instead of event:).",
            excludes=("event", "steps"),
        ),
        Key("tags", AnyOf((DECL_NAME, ListOf(DECL_NAME))), "Groups for properties: tag:TAG."),
    ),
    "A guarded action: when, then do (atomic) or steps (a non-atomic sequence).",
    name="action",
    one_of=("do", "steps"),
)

# ---------------------------------------------------------------- properties

EXPECT = AnyOf(
    (
        VERDICT,
        MapOf(
            VERDICT,
            names=AnyOf(
                (Scalar(("string",), enum=(*MODES, "default")), Scalar(("string",), pattern="="))
            ),
        ),
    ),
    "holds (default) or violated, or per choice: {MODE | PARAM=VALUE [...] | default: ...}.",
    name="expect",
)
LEADS_TO = Obj(
    "leads_to",
    (
        Key("from", EXPR, "The request: a state expression."),
        Key("to", AnyOf((EXPR, ListOf(WORD, min_items=1))), "A state, an action or tag:TAG."),
    ),
    name="leads_to",
    required=("from", "to"),
)
WITHIN_COUNT = Obj(
    "within",
    (
        Key("count", SELECTOR, "The actions counted."),
        Key("max", Scalar(CONST.types, minimum=0), "At most this many of them."),
    ),
    required=("count", "max"),
)
WITHIN = AnyOf(
    (Scalar(CONST.types, minimum=0), WITHIN_COUNT),
    "At most N steps, or {count: ACTIONS, max: N}.",
    name="within",
)
FAIRNESS = Obj(
    "fairness",
    (
        Key("weak", SELECTOR, "Weakly fair actions."),
        Key("strong", SELECTOR, "Strongly fair actions."),
    ),
)
FAIR = AnyOf((SELECTOR, FAIRNESS), "Weakly fair actions, or {weak: ..., strong: ...}.", name="fair")
ROW = Obj(
    "monitor event row",
    (
        Key(
            "on",
            WORD,
            "The kernel event, action or tag:TAG.",
            missing="a row needs on: (the kernel event)",
        ),
        Key("if", EXPR, "Only when this holds over the event's attributes."),
        Key("cpu", EXPR, "The CPU whose instance sees it (per: cpu)."),
        Key("task", EXPR, "The task whose instance sees it (per: task)."),
        Key(
            "start",
            Scalar(("boolean", "string"), enum=START),
            "true: da_handle_start_event; run: da_handle_start_run_event.",
        ),
    ),
    name="monitor_row",
    required=("on",),
)
_ROWS = AnyOf((WORD, ROW, ListOf(AnyOf((WORD, ROW)))))
_KINDS = ("invariant", "never", "reachable", "leads_to", "monitor")
PROPERTY = Obj(
    "property",
    (
        Key("doc", TEXT, "What the property means in the kernel."),
        Key("invariant", EXPR, "Holds in every reachable state."),
        Key("never", SELECTOR, "No step of these actions may run (with `when`: in such a state)."),
        Key("reachable", EXPR, "Some reachable state satisfies it, or the action can run."),
        Key(
            "when",
            EXPR,
            "The condition, in the pre-state, of never and of reachable over an action.",
            only_with=("never", "reachable"),
        ),
        Key("expect", EXPECT, "The expected verdict."),
        Key("modes", AnyOf((MODE, ListOf(MODE))), "Checked only in these modes."),
        Key("leads_to", LEADS_TO, "Every `from` state is followed by `to`."),
        Key("within", WITHIN, "A bound on the response.", only_with=("leads_to",)),
        Key("fair", FAIR, "Fairness assumptions.", only_with=("leads_to",)),
        Key("monitor", Scalar(("string",), pattern=r"\S"), "A kernel RV automaton (.dot file)."),
        Key(
            "events",
            MapOf(_ROWS),
            "Which kernel event becomes which automaton event.",
            only_with=("monitor",),
        ),
        Key(
            "per",
            Scalar(("string",), enum=MONITOR_TYPES),
            "One instance per CPU, per task, or one global.",
            only_with=("monitor",),
        ),
        Key(
            "bind",
            MapOf(EXPR),
            "Environment variables of a hybrid automaton.",
            only_with=("monitor",),
        ),
        Key(
            "untaken",
            MapOf(Scalar(("string",), pattern=r"\S")),
            "Edges (or events) the model cannot take, each with the reason.",
            only_with=("monitor",),
        ),
    ),
    "A property: exactly one of " + ", ".join(_KINDS) + ".",
    name="property",
    one_of=_KINDS,
)
PROPERTY_NAME = Scalar(
    ("string",),
    "Letters, digits, '_', '.', '-'.",
    name="property_id",
    pattern=PROP_ID,
    reserved=BUILTIN_PROPERTIES,
)

# ---------------------------------------------------------------- trace, files

_RECORDED = MapOf(Scalar(("string", "integer", "boolean")), "{recorded value: model value}")
TRACE_ARG = Obj(
    "tracepoint argument",
    (
        Key("attr", Scalar(("string",)), "The model attribute."),
        Key("values", _RECORDED, "{recorded value: model value}"),
    ),
    required=("attr", "values"),
)
TRACEPOINT = Obj(
    "tracepoint",
    (
        Key("event", Scalar(("string",)), "The model's event (default: the same name)."),
        Key(
            "args",
            MapOf(AnyOf((_RECORDED, TRACE_ARG))),
            "Tracepoint argument -> {recorded value: model value} or {attr, values}.",
        ),
    ),
    "How a recorded tracepoint maps to the model's event.",
    name="tracepoint",
)
TRACE_TASKS = "tasks"  # the trace entry that maps pids to the model's tasks

REMOVE = Obj(
    "remove",
    (
        Key("actions", AnyOf((WORD, ListOf(WORD))), "Inherited actions to drop."),
        Key("properties", AnyOf((WORD, ListOf(WORD))), "Inherited properties to drop."),
    ),
)
_DEFS = Key("defs", MapOf(EXPR, names=DECL_NAME, nullable=True), "Named expressions (macros).")
_PROPERTIES = Key(
    "properties", MapOf(PROPERTY, names=PROPERTY_NAME, nullable=True), "The properties."
)
MODEL = Obj(
    "preemptcheck model",
    (
        Key("model", Scalar(("string",)), "The model's name."),
        Key("doc", TEXT, "One paragraph: what the model is for."),
        Key(
            "cpus",
            Scalar(CONST.types, minimum=1, maximum=MAX_CPUS),
            "The number of CPUs, or `any`: every number (only `verify --engine symbolic` "
            "checks such a model: it proves the invariants for every number of CPUs).",
        ),
        Key("tasks", NAMES, "Task names, a domain like cpus."),
        Key("deadlock", Scalar(("string",), enum=DEADLOCK), "Is a state with no action an error?"),
        Key("symmetry", Scalar(("string",), enum=SYMMETRIES), "CPUs are interchangeable."),
        Key(
            "params",
            MapOf(
                PARAM,
                names=DECL_NAME,
                fixed=(Key("mode", MODE_PARAM, "The preemption mode."),),
                nullable=True,
            ),
            "Constants of one run.",
        ),
        Key("enums", MapOf(NAMES, names=DECL_NAME, nullable=True), "Named value sets."),
        Key("vars", MapOf(VAR, names=DECL_NAME, nullable=True), "State variables."),
        _DEFS,
        Key("actions", MapOf(ACTION, names=NAME, nullable=True), "Guarded actions."),
        _PROPERTIES,
        Key(
            "trace",
            MapOf(
                TRACEPOINT,
                names=NAME,
                fixed=(Key(TRACE_TASKS, MapOf(Scalar(("string",))), "{pid: task}"),),
                nullable=True,
            ),
            "How a kernel recording's events map to the model's.",
        ),
        Key("extends", PATHS, "Files whose entries are merged first."),
        Key("remove", REMOVE, "Entries inherited through extends to drop."),
        Key("check", PATHS, "Property files whose properties apply too."),
    ),
    "A preemptcheck model, or a property file (doc, defs, properties) that a model names in check.",
)
PROPERTY_FILE = Obj("property file", (MODEL.key("doc"), _DEFS, _PROPERTIES))
NAMED_BY = ("model", "extends")  # a model file names itself or extends one that does
SECTIONS = tuple(k.name for k in MODEL.fields if isinstance(k.shape, MapOf))
FILE_KEYS = ("extends", "remove", "check")
SCALARS = tuple(k for k in MODEL.keys if k not in SECTIONS and k not in FILE_KEYS)

assert tuple(ROLE_TYPES) == ROLES
assert tuple(v.value for v in VAR.variants) == VAR_TYPES
