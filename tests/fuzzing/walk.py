"""Special files (devices, FIFOs, sockets) as inputs; folder walks over loops and locked folders."""

from __future__ import annotations

import random

from .cases import Case, kind, variant
from .models import BROKEN, COUNTER, PROPS, VIOLATING, with_top

DEVICES = [
    "/dev/zero",
    "/dev/full",
    "/dev/urandom",
    "fifo.yaml",
    "/dev/null",
    "/dev/stdin",
    "/proc/self/fd/0",
    "sock.yaml",
    "/dev/tty",
    "zero-link.yaml",
]


@kind("devices")
def _devices(rng: random.Random, seed: int) -> Case:
    """/dev/zero, /dev/full, /dev/urandom, a FIFO, a socket, ... as the model, extends or check."""
    v = variant(seed, len(DEVICES) * 3, rng)
    device, position = DEVICES[v // 3], ["model", "extends", "check"][v % 3]
    files: dict[str, str | bytes] = {}
    if position == "model":
        argv = ["verify", device]
    elif position == "extends":
        files["m.yaml"] = with_top("model: m", f"extends: {device}")
        argv = ["verify", "m.yaml"]
    else:
        files["m.yaml"] = with_top(COUNTER, f"check: [{device}]")
        argv = ["verify", "m.yaml"]
    if rng.random() < 0.3:
        argv += ["--junit", "out/j.xml", "--sarif", "out/s.sarif"]
    return Case(
        "devices",
        seed,
        f"{device} as {position}",
        argv,
        files,
        fifos=["fifo.yaml"] if device == "fifo.yaml" else [],
        sockets=["sock.yaml"] if device == "sock.yaml" else [],
        symlinks={"zero-link.yaml": "/dev/zero"} if device == "zero-link.yaml" else {},
        process=True,
        limit=15,
    )


def _walk_tree(rng: random.Random, *, unreadable: bool) -> tuple[Case, list[str]]:
    files: dict[str, str | bytes] = {"tree/good.yaml": COUNTER}
    symlinks: dict[str, str] = {}
    fifos: list[str] = []
    sockets: list[str] = []
    dirs: list[str] = []
    chmods: dict[str, int] = {}
    parts: list[str] = []
    menu = [
        "bad",
        "deep",
        "dirloop",
        "updirloop",
        "dangling",
        "selfloop",
        "dirnamedyaml",
        "partial",
        "hidden",
        "linktodir",
        "fifo",
        "zero",
        "socket",
        "nonutf8",
        "empty",
        "many",
        "emptydir",
    ]
    if unreadable:
        menu = ["lockeddir", "lockedfile", "lockedextends", "lockedcheck", "lockeddeep"] * 3 + menu
    for what in rng.sample(menu, rng.randint(2, 6)):
        parts.append(what)
        if what == "bad":
            files["tree/bad.yaml"] = BROKEN
        elif what == "deep":
            files["tree/" + "/".join(["s"] * rng.choice([10, 60, 150])) + "/m.yaml"] = COUNTER
        elif what == "dirloop":
            symlinks["tree/loop"] = "."
        elif what == "updirloop":
            symlinks["tree/a/b"] = "../.."
        elif what == "dangling":
            symlinks["tree/dangling.yaml"] = "missing.yaml"
        elif what == "selfloop":
            symlinks["tree/self.yaml"] = "self.yaml"
        elif what == "dirnamedyaml":
            files["tree/dir.yaml/m.yaml"] = COUNTER
        elif what == "partial":
            files["tree/_partial/m.yaml"] = BROKEN
        elif what == "hidden":
            files["tree/.hidden/m.yaml"] = BROKEN
        elif what == "linktodir":
            symlinks["tree/link.yaml"] = "."
        elif what == "fifo":
            fifos.append("tree/fifo.yaml")
        elif what == "zero":
            symlinks["tree/zero.yaml"] = "/dev/zero"
        elif what == "socket":
            sockets.append("tree/sock.yaml")
        elif what == "nonutf8":
            files["tree/\udcff.yaml"] = COUNTER
        elif what == "empty":
            files["tree/empty.yaml"] = ""
        elif what == "many":
            for i in range(rng.choice([10, 40])):
                files[f"tree/many/m{i}.yaml"] = VIOLATING if i % 3 else COUNTER
        elif what == "emptydir":
            dirs.append("tree/nothing")
        elif what == "lockeddir":
            files["tree/locked/m.yaml"] = COUNTER
            chmods["tree/locked"] = 0
        elif what == "lockedfile":
            files["tree/locked.yaml"] = COUNTER
            chmods["tree/locked.yaml"] = 0
        elif what == "lockedextends":
            files["tree/ext.yaml"] = with_top("model: ext", "extends: hidden/base.yaml")
            files["tree/hidden/base.yaml"] = COUNTER
            chmods["tree/hidden"] = 0
        elif what == "lockedcheck":
            files["tree/chk.yaml"] = with_top(COUNTER, "check: [p.yaml]")
            files["tree/p.yaml"] = PROPS
            chmods["tree/p.yaml"] = 0
        elif what == "lockeddeep":
            files["tree/a1/a2/a3/m.yaml"] = COUNTER
            chmods["tree/a1/a2"] = 0o100  # search, no read
    case = Case("walk", 0, "", [], files, symlinks, fifos, sockets, dirs, chmods)
    return case, parts


@kind("walk")
def _walk(rng: random.Random, seed: int) -> Case:
    """`verify DIR`-like walks over loops, special files, partials, deep and odd trees."""
    case, parts = _walk_tree(rng, unreadable=False)
    args = rng.choice(
        [
            ["tree"],
            ["tree/"],
            ["tree/**/*.yaml"],
            ["tree/*"],
            ["."],
            ["tree", "tree/good.yaml"],
            ["tree/s/.."],
            ["tree/**"],
            ["tree", "tree"],
        ]
    )
    case.kind, case.seed = "walk", seed
    case.argv = ["verify", *args, "--max-states", "2000", "--traces", "none"]
    case.label = f"verify {' '.join(args)} over a tree with {', '.join(parts)}"
    case.process = bool(case.fifos) or "tree/zero.yaml" in case.symlinks or "nonutf8" in parts
    case.limit = 20
    loops = [p for p in parts if p in ("dirloop", "updirloop", "linktodir")]
    case.hang_group = f"verify {' '.join(args)}" + (
        f" through {len(loops)} directory symlink loop(s)" if loops else ""
    )
    return case


@kind("unreadable")
def _unreadable(rng: random.Random, seed: int) -> Case:
    """Walks and loads that meet chmod 000 folders and files (meaningless as root)."""
    case, parts = _walk_tree(rng, unreadable=True)
    if not case.chmods:
        case.files["tree/locked/m.yaml"] = COUNTER
        case.chmods["tree/locked"] = 0
        parts.append("lockeddir")
    args = rng.choice(
        [
            ["tree"],
            ["tree/**/*.yaml"],
            ["."],
            ["tree/locked/m.yaml"],
            ["tree/locked.yaml"],
            ["tree/ext.yaml"],
            ["tree/chk.yaml"],
        ]
    )
    case.kind, case.seed = "unreadable", seed
    case.argv = ["verify", *args, "--max-states", "2000", "--traces", "none"]
    if rng.random() < 0.3:
        case.dirs.append("ro")
        case.chmods["ro"] = 0o555
        case.argv += rng.choice(
            [["--junit", "ro/j.xml"], ["--sarif", "ro/s.sarif"], ["--trace-dir", "ro/t"]]
        )
        parts.append("read-only output folder")
    case.label = f"verify {' '.join(args)} over a tree with {', '.join(parts)}"
    case.process = bool(case.fifos) or "tree/zero.yaml" in case.symlinks or "nonutf8" in parts
    case.needs_unreadable = True
    case.limit = 20
    return case
