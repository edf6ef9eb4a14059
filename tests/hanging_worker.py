"""A reader worker that hangs on the first repository any worker of the run is asked to
read (it creates ``HANG_MARKER``, holding its pid, and sleeps), and reads every other one
as usual: to see what the main process does when a worker stops answering."""

from __future__ import annotations

import os
import sys
import time

from gitoverit.git import reader_io, reader_worker


class _Hanging(reader_io.Reader):
    def read_inprocess(self, ref):  # type: ignore[no-untyped-def]
        try:
            fd = os.open(os.environ["HANG_MARKER"], os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            return super().read_inprocess(ref)
        os.write(fd, f"{os.getpid()} {ref.path}".encode())
        os.close(fd)
        time.sleep(600)
        return super().read_inprocess(ref)


reader_io.Reader = _Hanging  # type: ignore[misc]

if __name__ == "__main__":
    sys.exit(reader_worker.main())
