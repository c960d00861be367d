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
import threading
from collections.abc import Callable

MAX_BYTES = 16 * 1024 * 1024
BACKUPS = 3
FORMAT = "%(asctime)s %(name)s %(message)s"
# How long the writer, woken by a line, waits for more before it writes them: a request thread that woke it for
# each line handed it the GIL, and under a stream of GETs that hand-over (a thread switch per request) cost more
# than the line itself (bench/arm_endpoint.py, the endpoint's CPU per request in process). Idle, it sleeps.
FLUSH_S = 0.01


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """The rotating file, created 0600, and written a batch of lines at a time (``write_batch``)."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return io.TextIOWrapper(io.FileIO(fd, "a"), encoding=self.encoding or "utf-8", write_through=True)

    def write_batch(self, records: list[logging.LogRecord]) -> None:
        """Write ``records`` as ``emit`` writes them one by one, rolling over before a line that would take the
        file to ``maxBytes`` (RotatingFileHandler's rule), in one write between two rollovers."""
        with self.lock:  # type: ignore[union-attr]  # made by Handler.__init__
            pending: list[str] = []
            size = -1  # of the file, once open: read again each batch (the daemon's stderr goes to it too)
            for record in records:
                try:
                    line = self.format(record) + self.terminator
                except Exception:  # pylint: disable=broad-except  # as emit: reported, the other lines written
                    self.handleError(record)
                    continue
                length = len(line) if line.isascii() else len(line.encode(self.encoding or "utf-8"))
                if self.stream is None:
                    self.stream = self._open()
                if size < 0:
                    size = os.fstat(self.stream.fileno()).st_size
                if self.maxBytes > 0 and size + length >= self.maxBytes and self._regular():
                    self._write(pending, record)
                    pending = []
                    self.doRollover()  # opens the next file (RotatingFileHandler without delay)
                    if self.stream is None:
                        self.stream = self._open()
                    size = os.fstat(self.stream.fileno()).st_size
                pending.append(line)
                size += length
            if pending:
                self._write(pending, records[-1])

    def _regular(self) -> bool:
        # bpo-45401, as RotatingFileHandler.shouldRollover: only a regular file is rolled over
        return not os.path.exists(self.baseFilename) or os.path.isfile(self.baseFilename)

    def _write(self, lines: list[str], record: logging.LogRecord) -> None:
        try:
            if self.stream is not None:
                self.stream.write("".join(lines))
        except Exception:  # pylint: disable=broad-except  # as emit: a full disk does not stop the endpoint
            self.handleError(record)


class _Writer(threading.Thread):
    """Writes what the request threads queued: woken by a line, it waits FLUSH_S for more and writes them all
    (None in the queue: stop, after writing what came before it)."""

    def __init__(self, lines: queue.SimpleQueue[logging.LogRecord | None], target: logging.Handler) -> None:
        super().__init__(name="azsim-arm-log", daemon=True)
        self.lines, self.target = lines, target
        self.stopping = threading.Event()

    def run(self) -> None:
        while True:
            first = self.lines.get()
            if first is not None:
                self.stopping.wait(FLUSH_S)  # set by stop(): no more waiting
            batch = [first]
            while True:
                try:
                    batch.append(self.lines.get_nowait())
                except queue.Empty:
                    break
            records = [r for r in batch if r is not None]
            self._write(records)
            if len(records) < len(batch):  # stop() removed the handler before it queued None: nothing follows
                return

    def _write(self, batch: list[logging.LogRecord]) -> None:
        if not batch:
            return
        if isinstance(self.target, _PrivateRotatingFileHandler):
            self.target.write_batch(batch)
        else:
            for record in batch:
                self.target.handle(record)

    def stop(self) -> None:
        self.stopping.set()
        self.lines.put(None)
        self.join()


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
    lines: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
    handler = logging.handlers.QueueHandler(lines)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    writer = _Writer(lines, target)
    writer.start()

    def stop() -> None:
        root.removeHandler(handler)
        writer.stop()
        target.close()

    return stop
