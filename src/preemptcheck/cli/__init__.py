"""The command line. `preemptcheck.cli.main` builds the Typer app from one module per
command; `common` holds what they share."""
