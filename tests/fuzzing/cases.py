"""What a fuzz case is and what running it gave, the registry of case classes, the suites."""

from __future__ import annotations

import random
import re
import shlex
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .models import BUNDLED


@dataclass
class Case:
    """One fuzz case: files to write, a command line to run in their directory."""

    kind: str
    seed: int
    label: str  # what the case tries, e.g. "FIFO as extends"
    argv: list[str]  # after the program name: ["verify", ...]
    files: dict[str, str | bytes] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)  # path -> target
    fifos: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)  # (empty) directories
    chmods: dict[str, int] = field(default_factory=dict)  # applied last, undone after the run
    limit: float = 10.0  # seconds per run
    process: bool = False  # needs a real process (see the module docstring)
    send_signal: tuple[int, float] | None = None  # (signal, seconds after the start)
    engines: bool = False  # a semantic mutant: run on both engines and compare
    expect: tuple[int, ...] | None = None  # the exit codes this case must give
    needs_unreadable: bool = False  # chmod 000 must stop reads (not as root)
    hang_group: str = ""  # what a HANG of this case is grouped by (default: its label)

    def hang_cause(self) -> str:
        return f"HANG in {self.kind}: {self.hang_group or normalize(self.label)[:80]}"

    @property
    def cid(self) -> str:
        return f"{self.kind}#{self.seed}"

    def runs(self) -> list[list[str]]:
        if not self.engines:
            return [self.argv]
        return [[*self.argv, "--engine", e] for e in ("explicit", "symbolic")]

    def size(self) -> int:
        """How big the reproducer is (to pick the smallest of a failure cause)."""
        n = sum(len(v) for v in self.files.values() if not self._is_bundled_copy(v))
        return n + sum(len(a) for a in self.argv) + 50 * len(self.files)

    def _is_bundled_copy(self, content: str | bytes) -> bool:
        return isinstance(content, str) and content in _BUNDLED_TEXTS

    def command(self) -> str:
        return "preemptcheck " + " ".join(shlex.quote(a) for a in self.argv)

    def describe(self, limit: int = 3000) -> str:
        """The reproducer: every file (bundled copies by name only), links, the command."""
        lines = [f"case {self.cid}: {self.label}"]
        same = sorted(p for p, v in self.files.items() if self._is_bundled_copy(v))
        if same:
            lines.append(f"  bundled files, unchanged: {', '.join(same)}")
        for path, content in sorted(self.files.items()):
            if self._is_bundled_copy(content):
                continue
            lines.append(f"  --- {path!r} ({len(content):,} {_unit(content)}) ---")
            lines.append(excerpt(content, limit))
        for path, target in sorted(self.symlinks.items()):
            lines.append(f"  symlink {path!r} -> {target!r}")
        for path in self.fifos:
            lines.append(f"  FIFO {path!r} (no writer)")
        for path in self.sockets:
            lines.append(f"  UNIX socket {path!r}")
        for path in self.dirs:
            lines.append(f"  directory {path!r}")
        for path, mode in sorted(self.chmods.items()):
            lines.append(f"  chmod {mode:o} {path!r}")
        if self.send_signal:
            sig, after = self.send_signal
            lines.append(f"  {signal.Signals(sig).name} sent after {after:g} s")
        for argv in self.runs():
            cmd = "preemptcheck " + " ".join(shlex.quote(a) for a in argv)
            lines.append(f"  $ PREEMPTCHECK_CACHE=0 {excerpt(cmd, 600)}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            if k == "files":
                v = {p: (c.decode("latin-1") if isinstance(c, bytes) else c) for p, c in v.items()}
            out[k] = v
        return out


_BUNDLED_TEXTS = frozenset(BUNDLED.values())


def _unit(content: str | bytes) -> str:
    return "bytes" if isinstance(content, bytes) else "chars"


def excerpt(content: str | bytes, limit: int) -> str:
    text = content.decode("latin-1") if isinstance(content, bytes) else content
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n  [... {len(text) - limit:,} more characters ...]\n{text[-half:]}"


def normalize(message: str, workdir: Path | None = None) -> str:
    """A message without what varies between cases of one bug (names, numbers, paths)."""
    text = message
    if workdir is not None:
        text = text.replace(str(workdir), "<dir>")
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r'"[^"]*"', '"…"', text)
    text = re.sub(r"(?<![A-Za-z])/[^\s:,)]+", "<path>", text)
    text = re.sub(r"\d+", "N", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:140]


@dataclass
class Run:
    """What one command line of a case did."""

    argv: list[str]
    exit_code: int | None  # None: it did not exit (a hang, a signal)
    stdout: str = ""
    stderr: str = ""
    elapsed: float = 0.0
    hang: bool = False
    signal: int | None = None  # killed by this signal
    exception: str | None = None  # an exception that escaped the command, with its traceback
    warnings: list[str] = field(default_factory=list)
    signalled: bool = False  # the case's signal reached the running process

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Problem:
    """One broken promise: `cause` groups problems of one bug, `detail` is the evidence."""

    cause: str
    detail: str


@dataclass
class Result:
    """A case's runs and the problems the oracle found."""

    case: Case
    runs: list[Run]
    problems: list[Problem]

    @property
    def elapsed(self) -> float:
        return sum(r.elapsed for r in self.runs)


Gen = Callable[[random.Random, int], Case]
KINDS: dict[str, Gen] = {}


def kind(name: str) -> Callable[[Gen], Gen]:
    def register(fn: Gen) -> Gen:
        KINDS[name] = fn
        return fn

    return register


def generate(kind_name: str, seed: int) -> Case:
    """The case `seed` of class `kind_name`: the same on every run and machine."""
    return KINDS[kind_name](random.Random(f"{kind_name}:{seed}"), seed)


SEED_BLOCK = 1_000_000  # a campaign with --seed S draws seeds S * SEED_BLOCK + i


def nth(seed: int) -> int:
    """The case's place in its block: the first ones of each block are the fixed variants."""
    return seed % SEED_BLOCK


def variant(seed: int, n: int, rng: random.Random) -> int:
    """The first n seeds of a block take every variant once, in order; later ones draw one."""
    return nth(seed) if nth(seed) < n else rng.randrange(n)


# the CI mix: about 520 cases, each class's first seeds being its fixed variants
CI_COUNTS: dict[str, int] = {
    "structural": 110,
    "inject": 45,
    "float": 25,
    "paths": 40,
    "devices": 12,
    "walk": 12,
    "unreadable": 10,
    "params": 48,
    "bigint": 36,
    "outputs": 45,
    "huge": 22,
    "cli": 60,
    "signal": 4,
    "mutant": 50,
}

# the campaign's weights for its --cases (mutants are counted apart)
CAMPAIGN_WEIGHTS: dict[str, float] = {
    "structural": 30,
    "inject": 12,
    "float": 6,
    "paths": 8,
    "devices": 2,
    "walk": 4,
    "unreadable": 2,
    "params": 8,
    "bigint": 7,
    "outputs": 8,
    "huge": 3,
    "cli": 10,
    "signal": 0.3,
}


def suite(counts: dict[str, int], first_seed: int = 0) -> list[tuple[str, int]]:
    """(kind, seed) of every case: `counts[kind]` seeds from `first_seed`."""
    return [(k, first_seed + i) for k, n in counts.items() for i in range(n)]


def campaign_counts(cases: int, mutants: int) -> dict[str, int]:
    total = sum(CAMPAIGN_WEIGHTS.values())
    counts = {k: max(1, round(cases * w / total)) for k, w in CAMPAIGN_WEIGHTS.items()}
    counts["structural"] += cases - sum(counts.values())
    counts["mutant"] = mutants
    return counts
