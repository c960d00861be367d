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

MAX_BYTES = 16 * 1024 * 1024
BACKUPS = 3
FORMAT = "%(asctime)s %(name)s %(message)s"


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return io.TextIOWrapper(io.FileIO(fd, "a"), encoding=self.encoding or "utf-8", write_through=True)


def configure(log_file: str | None, max_bytes: int = MAX_BYTES) -> logging.Handler | None:
    """Log INFO and up to ``log_file`` (rotated), or to stderr when there is none (``make serve``)."""
    if log_file is None:
        logging.basicConfig(level=logging.INFO, format=FORMAT)
        return None
    handler = _PrivateRotatingFileHandler(log_file, maxBytes=max_bytes, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler
