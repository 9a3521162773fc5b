"""Output options (--junit, --sarif, --trace-dir) aimed at paths that cannot be written."""

from __future__ import annotations

import random

from .cases import Case, kind, variant
from .models import BROKEN, BUNDLED, COUNTER, VIOLATING

OUTPUT_FAULTS = [
    "too long",
    "missing folder",
    "unwritable folder",
    "parent is a file",
    "is a directory",
    "symlink loop",
    "dangling symlink",
    "/proc",
    "empty",
    "dot",
    "same path twice",
    "existing file",
    "FIFO",
    "over PATH_MAX",
    "inside the model folder",
]


@kind("outputs")
def _outputs(rng: random.Random, seed: int) -> Case:
    """--junit, --sarif, --trace-dir: names too long, missing, unwritable, a directory, ..."""
    v = variant(seed, 3 * len(OUTPUT_FAULTS), rng)
    opt, fault = ["--junit", "--sarif", "--trace-dir"][v % 3], OUTPUT_FAULTS[v // 3]
    model = rng.choice(["violating", "counter", "broken", "full"])
    files: dict[str, str | bytes] = {}
    if model == "full":
        files.update(BUNDLED)
        target = "models/full.yaml"
    else:
        target = "m.yaml"
        files["m.yaml"] = {"violating": VIOLATING, "counter": COUNTER, "broken": BROKEN}[model]
    symlinks: dict[str, str] = {}
    dirs: list[str] = []
    chmods: dict[str, int] = {}
    fifos: list[str] = []
    ext = {"--junit": ".xml", "--sarif": ".sarif", "--trace-dir": ""}[opt]
    extra: list[str] = []
    if fault == "too long":
        path = "o" * rng.choice([256, 300, 2000]) + ext
    elif fault == "missing folder":
        path = "missing/deeper/out" + ext
    elif fault == "unwritable folder":
        dirs.append("ro")
        chmods["ro"] = 0o555
        path = "ro/out" + ext
    elif fault == "parent is a file":
        files["plain.txt"] = "x"
        path = "plain.txt/out" + ext
    elif fault == "is a directory":
        dirs.append("adir")
        path = "adir"
        if opt == "--trace-dir":
            files["adir/old.itf.json"] = '{"states": []}'
    elif fault == "symlink loop":
        symlinks["loop"] = "loop"
        path = rng.choice(["loop/out" + ext, "loop"])
    elif fault == "dangling symlink":
        symlinks["dangling" + ext] = "nowhere/x" + ext
        path = "dangling" + ext
    elif fault == "/proc":
        path = "/proc/preemptcheck-fuzz/out" + ext
    elif fault == "empty":
        path = ""
    elif fault == "dot":
        path = rng.choice([".", "..", "./"])
    elif fault == "same path twice":
        path = "same.out"
        other = rng.choice([o for o in ("--junit", "--sarif", "--trace-dir") if o != opt])
        extra = [other, path]
    elif fault == "existing file":
        files["exists" + ext] = "old content\n"
        path = "exists" + ext
    elif fault == "FIFO":
        fifos.append("pipe" + ext)
        path = "pipe" + ext
    elif fault == "over PATH_MAX":
        path = "/".join(["p" * 200] * 22) + "/out" + ext
    else:
        path = target
    argv = ["verify", target, "--max-states", "3000", opt, path, *extra]
    if rng.random() < 0.3:
        argv += rng.choice([["--format", "json"], ["--format", "markdown"], ["--traces", "all"]])
    if rng.random() < 0.3 and opt != "--junit":
        argv += ["--junit", "good/j.xml"]
    return Case(
        "outputs",
        seed,
        f"{opt} {fault} ({model} model)",
        argv,
        files,
        symlinks,
        fifos,
        dirs=dirs,
        chmods=chmods,
        limit=20,
    )
