"""Foundations every stage uses: located errors, sources, signals, output files."""
