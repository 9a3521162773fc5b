"""Names and strings that try to reach the generated Python source: the inject class."""

from __future__ import annotations

import random
import re

from .cases import Case, kind
from .models import HEAVY, MARKER, RACES, bundled_base, own_base, q
from .yamltext import replace_node, tree

IDENT_PAYLOADS = [
    "__class__",
    "__import__",
    "__builtins__",
    "__dict__",
    "__init__",
    "__name__",
    "_EvalErr",
    "_shl",
    "_ix",
    "_msg",
    "_oob",
    "HELPERS",
    "self",
    "None",
    "True",
    "False",
    "lambda",
    "import",
    "def",
    "class",
    "exec",
    "eval",
    "print",
    "open",
    "len",
    "range",
    "int",
    "s",
    "active",
    "cov",
    "succ",
    "events",
    "enabled",
    "v0",
    "A_x",
    "x_",
    "ß",
    "ǅ",
    "\u210c",  # NFKC: H
    "ﬁ",
    "µ",
    "\uff58",  # fullwidth x, NFKC: x
    "_",
    "__",
    "z3",
    "And",
    "If",
    "sys",
    "os",
    "cpus",
    "tasks",
]

STRING_PAYLOADS = [
    "a'b",
    'a"b',
    "a\nb",
    "a\\b",
    '"""',
    "'''",
    "{x}",
    "%s%(x)s",
    "\x00",
    "a\x00b",
    "\t",
    "\u2028",
    "\x85",
    "\x0c",
    "\r",
    "e\u0301",
    "😀",
    "\u202e",
    "",
    " ",
    "-",
    "tag:x",
    "x: y",
    "#",
    "*",
    "&a",
    "\ud800",
    "]]>",
    "<x/>",
    "&amp;",
    "\x1b[31m",
    "::error::",
    "%0A",
    f"__import__('pathlib').Path('{MARKER}').touch()",
    f"x'); __import__('pathlib').Path('{MARKER}').touch(); ('",
    f'x"); __import__("pathlib").Path("{MARKER}").touch(); ("',
    f"x\n__import__('pathlib').Path('{MARKER}').touch()\n",
    f"x\\\nimport pathlib; pathlib.Path('{MARKER}').touch()",
    f'"""); __import__(\'pathlib\').Path(\'{MARKER}\').touch(); ("""',
    f"{{__import__('pathlib').Path('{MARKER}').touch()}}",
    f"x' + __import__('pathlib').Path('{MARKER}').touch() + '",
    "A" * 100_000,
]

# where a model holds names and strings (a key under a section, or a value at a path)
_NAME_SECTIONS = ("actions", "properties", "vars", "defs", "params", "enums")
_STRING_PATH = re.compile(
    r"^(model|doc|tasks\[\d+\]|enums\.[^.]+\[\d+\]|.*\.doc|.*\.tags\[\d+\]|.*\.event(\[\d+\])?"
    r"|.*\.values\[\d+\]|.*\.role|.*\.fields\.[^.]+|.*\.of|.*\.fair\[\d+\]|.*\.never)$"
)


def inject_string(rng: random.Random, text: str) -> tuple[str, str] | None:
    """A name (a key of a section) or a string value replaced by a payload."""
    t = tree(text)
    if t is None:
        return None
    payload = rng.choice(STRING_PAYLOADS + IDENT_PAYLOADS)
    keys = [p for p in t.pairs if p.path.rpartition(".")[0] in _NAME_SECTIONS]
    strings = [(p, n) for p, n in t.scalars if _STRING_PATH.match(p)]
    if keys and (not strings or rng.random() < 0.5):
        p = rng.choice(keys)
        return replace_node(text, p.key, q(payload)), f"name {p.path} := {payload[:60]!r}"
    if not strings:
        return None
    path, node = rng.choice(strings)
    return replace_node(text, node, q(payload)), f"{path} := {payload[:60]!r}"


def declared_names(text: str) -> list[str]:
    """Names a model declares (sections' keys, enum values, tasks, tags, binding names)."""
    t = tree(text)
    if t is None:
        return []
    names: list[str] = []
    for p in t.pairs:
        parent = p.path.rpartition(".")[0]
        if parent in _NAME_SECTIONS or parent.endswith((".fields", ".for")) or parent == "for":
            names.append(p.key.value)
    for path, node in t.scalars:
        if re.match(r"^(tasks|enums\.[^.]+|.*\.values|.*\.tags)\[\d+\]$", path):
            names.append(node.value)
    return [n for n in dict.fromkeys(names) if re.fullmatch(r"[A-Za-z_][\w-]*", n)]


def rename_everywhere(text: str, old: str, new: str) -> str:
    """Every whole-word use of `old` (keys, values, expressions, selectors) becomes `new`."""
    return re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", lambda _: new, text)


@kind("inject")
def _inject(rng: random.Random, seed: int) -> Case:
    """Names and strings that try to reach the generated Python source."""
    if rng.random() < 0.3:
        files, mutate, target = bundled_base(rng)
        if rng.random() < 0.6:
            mutate = target = rng.choice([*RACES, "models/full.yaml"])
            if target == "models/full.yaml":
                mutate = "models/_base.yaml"
    else:
        files, mutate, target = own_base(rng)
    text = str(files[mutate])
    r = rng.random()
    names = declared_names(text)
    if r < 0.45 and names:
        old = rng.choice(names)
        new = rng.choice(IDENT_PAYLOADS)
        text = rename_everywhere(text, old, new)
        label = f"{mutate}: {old} renamed {new!r} everywhere"
    elif r < 0.55 and names:
        old = rng.choice(names)
        new = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in old)  # fullwidth
        text = rename_everywhere(text, old, new)
        label = f"{mutate}: {old} renamed to its fullwidth twin {new!r}"
    else:
        out = inject_string(rng, text)
        text, label = out if out else (text, "no slot")
        label = f"{mutate}: {label}"
    files[mutate] = text
    argv = ["verify", target, "--max-states", "3000", "--timeout", "8"]
    if rng.random() < 0.15 and target not in HEAVY:
        argv += ["--engine", "symbolic", "--bound", "3", "--rlimit", "2000000"]
    for p, opts in (
        (0.3, ["--format", "json"]),
        (0.1, ["--format", "markdown"]),
        (0.3, ["--junit", "out/j.xml"]),
        (0.3, ["--sarif", "out/s.sarif"]),
        (0.3, ["--trace-dir", "traces"]),
        (0.2, ["--traces", "all"]),
    ):
        if rng.random() < p:
            argv += opts
    process = False
    if rng.random() < 0.2:
        # no NUL: a command line cannot carry one
        payload = rng.choice([p for p in STRING_PAYLOADS[:30] + IDENT_PAYLOADS if "\x00" not in p])
        if any("\ud800" <= c <= "\udfff" for c in payload):
            # what a real command line can carry: bytes that are not UTF-8
            payload = payload.encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape")
            process = True
        opt = rng.choice(["--property", "--set", "--mode"])
        value = f"P={payload}" if opt == "--set" else payload
        argv += [opt, value]
        label += f"; {opt} {value[:40]!r}"
    return Case("inject", seed, label, argv, files, process=process, limit=20)
