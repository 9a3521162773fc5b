"""Odd paths: NUL bytes, long names, symlink loops, deep and wide `extends`, odd files."""

from __future__ import annotations

import random
from typing import Any

from .cases import Case, kind, variant
from .models import BROKEN, COUNTER, PROPS, q, with_top


def _chain(depth: int) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {"chain/c0.yaml": COUNTER}
    for i in range(1, depth + 1):
        files[f"chain/c{i}.yaml"] = f"model: c{i}\nextends: c{i - 1}.yaml\n"
    return files


def _diamond(depth: int) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {"d/base.yaml": COUNTER}
    for i in range(depth):
        nxt = [f"l{i + 1}a.yaml", f"l{i + 1}b.yaml"] if i + 1 < depth else ["base.yaml"]
        for side in "ab":
            files[f"d/l{i}{side}.yaml"] = f"model: l{i}{side}\nextends: [{', '.join(nxt)}]\n"
    files["d/top.yaml"] = "model: top\nextends: [l0a.yaml, l0b.yaml]\n"
    return files


@kind("paths")
def _paths(rng: random.Random, seed: int) -> Case:
    """NUL bytes, long names, symlink loops, deep and wide `extends`, odd files and names."""
    v = variant(seed, 26, rng)
    m = "m.yaml"
    base: dict[str, str | bytes] = {"base.yaml": COUNTER, "props.yaml": PROPS}
    long_name = "a" * rng.choice([256, 300, 1000, 4096]) + ".yaml"
    deep_path = "/".join(["d" * 200] * rng.choice([21, 25, 40])) + "/x.yaml"

    def case(
        label: str, files: dict[str, str | bytes], argv: list[str] | None = None, **kw: Any
    ) -> Case:
        return Case(
            "paths",
            seed,
            label,
            argv or ["verify", m, "--max-states", "3000"],
            {**base, **files},
            **kw,
        )

    if v == 0:
        return case(
            "NUL byte in extends",
            {m: with_top("model: m", f"extends: {q('base' + chr(0) + '.yaml')}")},
        )
    if v == 1:
        return case(
            "NUL byte in check", {m: with_top(COUNTER, f"check: [{q('props.yaml' + chr(0))}]")}
        )
    if v == 2:
        return case(
            "NUL byte in a list of extends",
            {m: with_top("model: m", f"extends: [base.yaml, {q(chr(0))}]")},
        )
    if v == 3:
        return case(
            "path component over 255 bytes in extends",
            {m: with_top("model: m", f"extends: {long_name}")},
        )
    if v == 4:
        return case(
            "path component over 255 bytes in check",
            {m: with_top(COUNTER, f"check: [{long_name}]")},
        )
    if v == 5:
        return case("path component over 255 bytes on the command line", {}, ["verify", long_name])
    if v == 6:
        where = rng.choice(["extends", "argv"])
        if where == "argv":
            return case("path over PATH_MAX on the command line", {}, ["verify", deep_path])
        return case(
            "path over PATH_MAX in extends", {m: with_top("model: m", f"extends: {deep_path}")}
        )
    if v == 7:
        return case(
            "symlink loop as the model",
            {},
            ["verify", "loop1.yaml"],
            symlinks={"loop1.yaml": "loop2.yaml", "loop2.yaml": "loop1.yaml"},
        )
    if v == 8:
        return case(
            "symlink loop as extends",
            {m: with_top("model: m", "extends: loop1.yaml")},
            symlinks={"loop1.yaml": "loop2.yaml", "loop2.yaml": "loop1.yaml"},
        )
    if v == 9:
        return case(
            "symlink loop as check",
            {m: with_top(COUNTER, "check: [self.yaml]")},
            symlinks={"self.yaml": "self.yaml"},
        )
    if v == 10:
        return case(
            "self-referencing directory link in the extends path",
            {m: with_top("model: m", "extends: d/d/d/x.yaml")},
            symlinks={"d": "d"},
        )
    if v == 11:
        links = {f"l{i}.yaml": f"l{i + 1}.yaml" for i in range(60)}
        return case(
            "a chain of 60 symlinks as the model",
            {"l60.yaml": COUNTER},
            ["verify", "l0.yaml"],
            symlinks=links,
        )
    if v == 12:
        return case(
            "extends chain 300 files deep",
            _chain(300),
            ["verify", "chain/c300.yaml"],
            expect=(0,),
            limit=30,
        )
    if v == 13:
        return case(
            "extends chain 1,500 files deep", _chain(1500), ["verify", "chain/c1500.yaml"], limit=30
        )
    if v == 14:
        n = rng.randint(990, 1010)
        return case(
            f"extends chain {n} files deep", _chain(n), ["verify", f"chain/c{n}.yaml"], limit=30
        )
    if v == 15:
        depth = rng.choice([20, 30, 40])
        return case(
            f"extends diamond lattice {depth} levels deep",
            _diamond(depth),
            ["verify", "d/top.yaml"],
            limit=15,
        )
    if v == 16:
        return case(
            "extends the same file 500 times",
            {m: with_top("model: m", f"extends: [{', '.join(['base.yaml'] * 500)}]")},
        )
    if v == 17:
        return case(
            "check the same file 500 times",
            {m: with_top(COUNTER, f"check: [{', '.join(['props.yaml'] * 500)}]")},
        )
    if v == 18:
        how = rng.choice(["./m.yaml", "alias.yaml", "sub/../m.yaml", "./././m.yaml"])
        return case(
            f"extends itself via {how}",
            {m: with_top(COUNTER, f"extends: {how}"), "sub/x": ""},
            symlinks={"alias.yaml": "m.yaml"},
        )
    if v == 19:
        target = rng.choice(
            [".", "''", "/", "~", "7", "[[base.yaml]]", "{a: b}", "sub", "sub/", "true"]
        )
        return case(
            f"extends: {target}",
            {m: with_top("model: m", f"extends: {target}"), "sub/x.yaml": COUNTER},
        )
    if v == 20:
        target = rng.choice(
            [
                "/etc/passwd",
                "/proc/self/status",
                "/proc/self/mem",
                "/proc/self/cmdline",
                "/etc",
                "/proc/self/fd",
                "/sys/kernel/mm/transparent_hugepage/enabled",
            ]
        )
        key = rng.choice(["extends", "check"])
        text = (
            with_top("model: m", f"extends: {target}")
            if key == "extends"
            else with_top(COUNTER, f"check: [{target}]")
        )
        return case(f"{key}: {target}", {m: text}, process=True)
    if v == 21:
        contents: list[tuple[str, str | bytes]] = [
            ("invalid UTF-8", COUNTER.encode() + b"\n# \xff\xfe\x80\n"),
            ("UTF-8 BOM", b"\xef\xbb\xbf" + COUNTER.encode()),
            ("UTF-16 with BOM", COUNTER.encode("utf-16")),
            ("NUL bytes inside", COUNTER.encode().replace(b"doc:", b"doc: \x00")),
            ("empty", b""),
            ("only comments", b"# nothing\n# here\n"),
            ("two documents", (COUNTER + "---\n" + COUNTER).encode()),
            ("CRLF line ends", COUNTER.replace("\n", "\r\n").encode()),
            ("CR line ends", COUNTER.replace("\n", "\r").encode()),
            (
                "form feeds and vertical tabs",
                COUNTER.replace("\n", "\n\x0c", 3).replace("x < 3", "x <\x0b3").encode(),
            ),
            ("U+2028 in an expression", COUNTER.replace("x < 3", "x <\u20283").encode()),
            ("NEL line ends", COUNTER.replace("\n", "\x85").encode()),
            ("a tab indent", COUNTER.replace("  x:", "\tx:").encode()),
            (
                "a lone surrogate",
                COUNTER.replace("counter", "c\ud800").encode("utf-8", "surrogatepass"),
            ),
            ("2 MB of comments", (COUNTER + ("#" * 1000 + "\n") * 2000).encode()),
        ]
        what, content = contents[rng.randrange(len(contents))]
        return case(f"model file: {what}", {m: content})
    if v == 22:
        names = [
            "a\nb.yaml",
            "m.yaml:3:4",
            "-x.yaml",
            "a b.yaml",
            "ünï.yaml",
            ".yaml",
            " .yaml",
            "\udcff\udcfe.yaml",
            "x.YAML",
            "a'b\".yaml",
            "$(touch PWNED).yaml",
            "m.yaml ",
            "~.yaml",
        ]
        name = rng.choice(names)
        argv = ["verify", name] if not name.startswith("-") else ["verify", "--", name]
        return case(
            f"model file named {name!r}",
            {name: BROKEN if rng.random() < 0.5 else COUNTER},
            argv,
            process="\udcff" in name,
        )
    if v == 23:
        pattern = rng.choice(
            [
                "[a].yaml",
                "*.yaml",
                "**",
                "**/*.yaml",
                "m.yaml[",
                "{a,b}.yaml",
                "?.yaml",
                "[!m]*.yaml",
                "[",
                "***",
            ]
        )
        return case(
            f"glob {pattern!r}",
            {"[a].yaml": COUNTER, "a.yaml": BROKEN},
            ["verify", pattern, "--max-states", "3000"],
        )
    if v == 24:
        props = rng.choice(
            [
                "model: p\nvars: {y: {type: bool}}\n",
                "- 1\n- 2\n",
                "doc: p\nextends: base.yaml\n",
                "doc: p\nproperties: {a: {invariant: nope}}\n",
                "doc: p\nunknown: 1\n",
                COUNTER,
                "doc: p\ncheck: [props2.yaml]\n",
                "properties:\n  bounded:\n    invariant: x < 9\n",
            ]
        )
        return case("an odd check file", {m: with_top(COUNTER, "check: [p.yaml]"), "p.yaml": props})
    where = rng.choice(["extends", "check", "argv"])
    name = rng.choice(
        ["a\nb.yaml", "a'b.yaml", '"""', "{x}.yaml", "-x.yaml", "x:1:2.yaml", ".yaml"]
    )
    if where == "argv":
        return case(
            f"odd path {name!r} on the command line", {name: COUNTER}, ["verify", "--", name]
        )
    text = (
        with_top("model: m", f"extends: {q(name)}")
        if where == "extends"
        else with_top(COUNTER, f"check: [{q(name)}]")
    )
    return case(
        f"{where} names the file {name!r}",
        {m: text, name: COUNTER if where == "extends" else PROPS},
    )
