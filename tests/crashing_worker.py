"""A reader worker that dies the first time it is asked to read a repository, leaving a
marker file named by ``CRASH_MARKER``: to see what the main process does when a worker
dies."""

from __future__ import annotations

import os
import sys

from gitoverit.git import reader_io, reader_worker


class _Dying(reader_io.Reader):
    def read_inprocess(self, ref):  # type: ignore[no-untyped-def]
        with open(os.environ["CRASH_MARKER"], "a") as fh:
            fh.write(ref.path + "\n")
        os._exit(3)


reader_io.Reader = _Dying  # type: ignore[misc]

if __name__ == "__main__":
    sys.exit(reader_worker.main())
