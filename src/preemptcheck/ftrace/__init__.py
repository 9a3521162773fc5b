"""Kernel traces (ftrace text) and the models: reading recordings, checking that a model can
produce them, and writing counterexamples as recordings."""
