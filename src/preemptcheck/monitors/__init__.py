"""The kernel's runtime-verification monitors (rvgen's .dot automata) as frozen automata."""
