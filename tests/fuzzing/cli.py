"""Misuse of the command line: unknown options, bad and conflicting values, odd arguments."""

from __future__ import annotations

import random

from .cases import Case, kind, nth
from .models import COUNTER, OK_SMALL

# (extra argv, exit codes it must give or None, label)
CLI_MISUSE: list[tuple[list[str], tuple[int, ...] | None, str]] = [
    (["--bogus"], (2,), "unknown option"),
    (["--max-state", "5"], (2,), "misspelt option"),
    (["-x"], (2,), "unknown short option"),
    (["---"], (2,), "three dashes"),
    (["--max-states"], (2,), "option without its value"),
    (["--max-states="], (2,), "option with an empty value"),
    (["--max-states", "0"], (2,), "--max-states 0"),
    (["--max-states", "-1"], (2,), "--max-states -1"),
    (["--max-states", "abc"], (2,), "--max-states abc"),
    (["--max-states", "1.5"], (2,), "--max-states 1.5"),
    (["--timeout", "-1"], (2,), "--timeout -1"),
    (["--timeout", "0"], (2,), "--timeout 0"),
    (["--timeout", "-0.0"], (2,), "--timeout -0.0"),
    (["--timeout", "nan"], (2,), "--timeout nan"),
    (["--timeout", "-inf"], (2,), "--timeout -inf"),
    (["--timeout", "inf"], None, "--timeout inf"),
    (["--timeout", "abc"], (2,), "--timeout abc"),
    (["--timeout", "1e-9"], None, "--timeout 1e-9"),
    (["--bound", "0"], (2,), "--bound 0"),
    (["--bound", "-1"], (2,), "--bound -1"),
    (["--bound", "x"], (2,), "--bound x"),
    (["--rlimit", "-1"], (2,), "--rlimit -1"),
    (["--rlimit", "x"], (2,), "--rlimit x"),
    (["--rlimit", "1", "--engine", "symbolic"], None, "--rlimit 1"),
    (["--set", "P"], (2,), "--set without ="),
    (["--set", "=1"], (2,), "--set =1"),
    (["--set", "P="], (2,), "--set P="),
    (["--set", "unknown=1"], (2,), "--set unknown=1"),
    (["--set", "P=1", "--set", "P=2"], None, "--set twice"),
    (["--mode", "bogus"], (2,), "--mode bogus"),
    (["--mode", ""], (2,), "--mode ''"),
    (["--property", "nonexistent"], (2,), "--property nonexistent"),
    (["--property", ""], (2,), "--property ''"),
    (["--format", "bogus"], (2,), "--format bogus"),
    (["--engine", "bogus"], (2,), "--engine bogus"),
    (["--traces", "bogus"], (2,), "--traces bogus"),
    (["--all-modes", "--mode", "full"], (2,), "--all-modes with --mode"),
    (["--all-modes", "--set", "mode=full"], (2,), "--all-modes with --set mode="),
    (["--format", "json", "--format", "text"], None, "--format twice"),
    (["--symmetry", "--engine", "symbolic"], None, "--symmetry with the symbolic engine"),
    (["--engine", "auto", "--max-states", "1"], None, "--engine auto with 1 state"),
    (["--fail-fast", "--strict", "--traces", "all"], None, "every flag"),
    (["--cache", "--cache-dir", "cachefile"], None, "--cache-dir a file"),
    (["--cache", "--cache-dir", "missing/deeper/cache"], None, "--cache-dir in a missing folder"),
    (["--cache", "--cache-dir", "c" * 300], None, "--cache-dir name too long"),
    (["--cache", "--cache-dir", "/proc/preemptcheck-fuzz"], None, "--cache-dir under /proc"),
    (["--cache", "--cache-dir", ""], None, "--cache-dir ''"),
    (["--debug"], None, "--debug"),
    (["--", "--bogus"], (2,), "a path named --bogus"),
    (["--help"], (0,), "--help"),
]


@kind("cli")
def _cli(rng: random.Random, seed: int) -> Case:
    """Unknown options, bad option values, conflicting options, odd arguments."""
    files: dict[str, str | bytes] = {"m.yaml": COUNTER, "ok.yaml": OK_SMALL, "cachefile": "x"}
    if nth(seed) < len(CLI_MISUSE):
        extra, expect, label = CLI_MISUSE[nth(seed)]
        target = (
            "ok.yaml"
            if any(a in ("--mode", "--all-modes") or a.startswith("mode=") for a in extra)
            else "m.yaml"
        )
        argv = ["verify", target, *extra]
        if not any(a.startswith("--max-states") for a in extra):
            argv += ["--max-states", "3000"]
        return Case("cli", seed, label, argv, files, expect=expect)
    picks = rng.sample(CLI_MISUSE, rng.randint(1, 3))
    argv = ["verify"]
    paths = rng.choice(
        [
            ["m.yaml"],
            ["ok.yaml"],
            ["m.yaml", "ok.yaml"],
            [],
            [""],
            ["."],
            ["-"],
            ["m.yaml"] * 50,
            ["nonexistent.yaml"],
        ]
    )
    argv += paths
    labels = [f"paths {' '.join(map(repr, paths[:3]))}{' ...' if len(paths) > 3 else ''}"]
    for extra, _expect, label in picks:
        argv += extra
        labels.append(label)
    if rng.random() < 0.3:
        command = rng.choice(
            ["verify", "latency", "bogus", "--version", "--help", "verify --help", ""]
        )
        argv = [command, *argv[1:]]
        labels.append(f"command {argv[0]!r}")
    if "--max-states" not in argv:
        argv += ["--max-states", "3000"]
    return Case("cli", seed, "; ".join(labels), argv, files)
