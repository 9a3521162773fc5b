"""preemptcheck: a model checker for the Linux kernel's preemption machinery."""

__version__ = "0.1.0"
