"""Sinks: the only code that writes results to the terminal or a pipe."""
