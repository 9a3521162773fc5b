"""Writes a large ftrace recording that models/full.yaml can produce, for `preemptcheck trace`.

    .venv/bin/python benchmarks/bigtrace.py LINES OUT.txt

Two CPUs (checked each on its own against the one-CPU model): on each, a task takes and
drops preemption-disabled sections (spin locks, nested preempt_disable), with interrupts
(irq_handler_entry/exit, which the model does not emit: skipped and counted) in between;
a `[LOST EVENTS]` marker and a stack trace now and then. Deterministic (seeded).
"""

from __future__ import annotations

import random
import sys

HEADER = """\
# tracer: nop
#
# entries-in-buffer/entries-written: {n}/{n}   #P:2
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
"""


def main() -> None:
    n, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(15)
    tasks = {0: ("bash", 1977), 1: ("kworker/1:2-events", 88)}
    us = 100_000_000
    lines: list[str] = []
    while len(lines) < n:
        cpu = rng.randrange(2)
        comm, pid = tasks[cpu]

        def line(flags: str, event: str, args: str) -> None:
            nonlocal us
            us += rng.randrange(1, 40)
            lines.append(
                f"{comm:>16}-{pid:<7} [{cpu:03d}] {flags} {us // 1_000_000:5d}.{us % 1_000_000:06d}: "
                f"{event}: {args}"
            )

        what = rng.random()
        if what < 0.6:
            line("...1.", "preempt_disable", "caller=_raw_spin_lock+0x17/0x40 parent=0x0")
            line("...1.", "preempt_enable", "caller=_raw_spin_unlock+0x17/0x40 parent=0x0")
        elif what < 0.9:  # irq_enter()'s preempt_count_add(HARDIRQ_OFFSET) is traced
            line("d.h..", "preempt_disable", "caller=irq_enter_rcu+0x4e/0x80 parent=0x0")
            line("d.h..", "irq_handler_entry", "irq=24 name=eth0")
            line("d.h..", "irq_handler_exit", "irq=24 ret=handled")
            line("d.h..", "preempt_enable", "caller=irq_exit_rcu+0x12/0xd0 parent=0x0")
        elif what < 0.95:
            lines.append(f"CPU:{cpu} [LOST {rng.randrange(1, 100)} EVENTS]")
            line("...1.", "preempt_disable", "caller=vfs_write+0x89c/0xe90 parent=0x0")
            line("...1.", "preempt_enable", "caller=vfs_write+0x923/0xe90 parent=0x0")
        else:
            line("...1.", "preempt_disable", "caller=_raw_spin_lock+0x17/0x40 parent=0x0")
            lines.append(f"{comm:>16}-{pid:<7} [{cpu:03d}] ...1. "
                         f"{us // 1_000_000:5d}.{us % 1_000_000:06d}: <stack trace>")
            lines.append(" => _raw_spin_lock")
            lines.append(" => do_sys_openat2")
            line("...1.", "preempt_enable", "caller=_raw_spin_unlock+0x17/0x40 parent=0x0")
    with open(out, "w") as f:
        f.write(HEADER.format(n=n))
        f.write("\n".join(lines[:n]) + "\n")


if __name__ == "__main__":
    main()
