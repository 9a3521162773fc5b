"""SIGINT and SIGTERM sent to a real process while it explores, runs z3, walks or loads."""

from __future__ import annotations

import random
import signal

from .cases import Case, kind, variant
from .models import COUNTER, slow_model

SIGNAL_PHASES = ["exploration", "z3", "a glob through two directory loops", "loading"]


@kind("signal")
def _signal(rng: random.Random, seed: int) -> Case:
    """SIGINT or SIGTERM in the middle of a run that writes --junit/--sarif/--trace-dir:
    while it explores, in z3, in a slow folder walk, while it loads a big model."""
    sig = [signal.SIGINT, signal.SIGTERM][seed % 2]
    phase = SIGNAL_PHASES[variant(seed // 2, len(SIGNAL_PHASES), rng)]
    after = rng.choice([0.6, 1.0, 1.5, 2.5])
    outputs = ["--junit", "out/j.xml", "--sarif", "out/s.sarif", "--trace-dir", "out/traces"]
    files: dict[str, str | bytes] = {}
    symlinks: dict[str, str] = {}
    if phase == "exploration":
        files["slow.yaml"] = slow_model(rng.choice([1500, 2000]))
        argv = ["verify", "slow.yaml", "--max-states", "2000000"]
    elif phase == "z3":
        files["slow.yaml"] = slow_model(rng.choice([1500, 2000]))
        argv = ["verify", "slow.yaml", "--engine", "symbolic", "--bound", "400", "--rlimit", "0"]
    elif phase == "loading":
        lines = "".join(f"  p{i}:\n    invariant: x != {i + 4}\n" for i in range(10_000))
        files["big.yaml"] = COUNTER.replace("properties:\n", "properties:\n" + lines)
        argv = ["verify", "big.yaml"]
    else:
        files["tree/good.yaml"] = COUNTER
        symlinks = {"tree/loop": ".", "tree/link": "."}
        argv = ["verify", "tree/**/*.yaml"]
    return Case(
        "signal",
        seed,
        f"{sig.name} after {after} s, during {phase}",
        [*argv, *outputs],
        files,
        symlinks,
        process=True,
        send_signal=(int(sig), after),
        limit=30,
    )
