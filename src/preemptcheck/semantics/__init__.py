"""Model IR -> transition system, the reference interpreter (the oracle) and trace replay."""
