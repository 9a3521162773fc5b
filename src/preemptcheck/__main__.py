"""`python -m preemptcheck`: the same command line as `preemptcheck`."""

from preemptcheck.cli.main import main

main()
