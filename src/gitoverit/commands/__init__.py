"""One module per command. Each takes an options dataclass and returns an exit code.

The command line (:mod:`gitoverit.cli`) turns flags into those options; a command turns
them into work (:mod:`gitoverit.scan`, :mod:`gitoverit.actions`, :mod:`gitoverit.sync`)
and writes the results. A problem with the input raises
:class:`~gitoverit.errors.UsageError` before any work starts.
"""
