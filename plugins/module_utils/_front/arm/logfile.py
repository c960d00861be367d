# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint's log: one line per request, in a file that rotates so a long-lived endpoint cannot fill the disk.

The daemon (module ``arm_endpoint``) runs for as long as the user likes and logs every request; at a fleet's
request rate an unrotated log grows by gigabytes a day. ``endpoint.log`` is kept under ``MAX_BYTES``, with
``BACKUPS`` older files beside it (``endpoint.log.1`` …). The files are created 0600, as the daemon creates the
log it points stdout and stderr at: a log holds store paths and request ids, never a secret, but it is the
user's.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import queue
import sys
from collections.abc import Callable

MAX_BYTES = 16 * 1024 * 1024
BACKUPS = 3
FORMAT = "%(asctime)s %(name)s %(message)s"


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return io.TextIOWrapper(io.FileIO(fd, "a"), encoding=self.encoding or "utf-8", write_through=True)


def start(log_file: str | None, max_bytes: int = MAX_BYTES) -> Callable[[], None]:
    """Log INFO and up to ``log_file`` (rotated), or to stderr when there is none (``make serve``); stop() ends it.

    A request thread only queues its line and one thread of its own writes it: with the file handler in the
    request threads each wrote under the handler's lock, and under load they queued at that lock behind one
    blocked in the write (a third of the endpoint's samples in bench/arm_endpoint.py). ``stop()`` writes what
    is queued.
    """
    target: logging.Handler
    if log_file is None:
        target = logging.StreamHandler(sys.stderr)
    else:
        target = _PrivateRotatingFileHandler(log_file, maxBytes=max_bytes, backupCount=BACKUPS, encoding="utf-8")
    target.setFormatter(logging.Formatter(FORMAT))
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    handler = logging.handlers.QueueHandler(lines)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    writer = logging.handlers.QueueListener(lines, target)
    writer.start()

    def stop() -> None:
        writer.stop()
        root.removeHandler(handler)
        target.close()

    return stop
