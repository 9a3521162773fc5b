"""Checking a model: properties -> verdicts, worst-case latency, and the difference of two runs."""
