"""CI support: the results cache and checking a git revision's models."""
