# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store's file on disk: the path, its folders and owner, whether it is an azsim.vmss store, and
what a disk error means. All of it is read without connecting: any SQLite connection writes the -shm, and
the last one to close checkpoints a pending WAL into the file.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import os
import resource
import stat
import threading

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import StoreError

# 'AZVS' in ASCII: marks a SQLite file as ours in its header (PRAGMA application_id).
APPLICATION_ID = 0x415A5653


SQLITE_HEADER = b"SQLite format 3\x00"

# A process's POSIX locks on a file all go when it closes any descriptor of that file, SQLite's own locks
# included (sqlite.org/howtocorrupt.html §2.2). A connection to a WAL database holds a shared lock on it for
# as long as it is open, and a connection of another process that closes takes the lack of it for "I am the
# last one": it checkpoints and removes the -wal under the first's feet ("database disk image is malformed").
# So while this process has a connection to a store (the endpoint keeps some across requests; a test runs it
# in a thread beside its own calls), the checks below read the file through one descriptor kept open with the
# connections, never through one they close. HELD: (st_dev, st_ino) -> [descriptor, connections].
HOLDING = threading.RLock()
HELD: dict[tuple[int, int], list[int]] = {}


def read_head(path: str, size: int) -> bytes:
    """The first ``size`` bytes of the file at ``path``, without dropping this process's locks on it."""
    with HOLDING:
        st = os.stat(path)
        held = HELD.get((st.st_dev, st.st_ino))
        if held is not None:
            return os.pread(held[0], size, 0)
        with open(path, "rb") as handle:
            return handle.read(size)


def hold(path: str) -> tuple[int, int]:
    """Count one more connection of this process to the file at ``path``; its key for ``release``.

    Called holding ``HOLDING``, before the connection is made.
    """
    st = os.stat(path)
    key = (st.st_dev, st.st_ino)
    held = HELD.get(key)
    if held is None:
        HELD[key] = [os.open(path, os.O_RDONLY | os.O_NOFOLLOW), 1]
    else:
        held[1] += 1
    return key


def release(key: tuple[int, int]) -> None:
    """One connection fewer; the descriptor is closed with the last one (then no lock of ours is left to drop)."""
    with HOLDING:
        held = HELD.get(key)
        if held is None:
            return
        held[1] -= 1
        if held[1] <= 0:
            del HELD[key]
            os.close(held[0])


def prepare_file(path: str, create: bool = True) -> list[str] | None:
    """Check the file at ``path``; create it 0600 (and its folders 0700) if missing and ``create``.

    Returns the folders it created, deepest first, when it created the file; None when the file was there.
    The path itself is never followed if it is a symlink (``lstat``, ``O_EXCL`` refuses one when creating).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not create:
            raise StoreError(
                f"store {path}: does not exist; nothing was created (check mode and read-only modules never create "
                "a store). Point the store option or AZSIM_VMSS_STORE at an existing store, or run a task that "
                "writes to create it"
            ) from None
        try:
            made = _make_folders(os.path.dirname(path))
            _check_folder(path)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
        except FileExistsError:  # another process made it meanwhile (or planted a symlink): checked as found
            return prepare_file(path, create=False)
        except OSError as exc:
            raise StoreError(
                f"store {path}: cannot be created ({exc.strerror}); choose a writable path with the store "
                "option or AZSIM_VMSS_STORE"
            ) from None
        os.close(fd)
        return made
    except OSError as exc:
        raise StoreError(f"store {path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISLNK(st.st_mode):
        raise StoreError(
            f"store {path}: is a symlink (to {os.readlink(path)}); a store is never opened through one. Give the "
            "path of the real file with the store option or AZSIM_VMSS_STORE"
        )
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(f"store {path}: is a directory; give the path of a file inside it, e.g. {path}/vmss.sqlite")
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"store {path}: is not a regular file; give the path of a store file")
    _check_folder(path)
    check_owner(path, path, st)
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(os.path.dirname(path), os.W_OK):
        raise StoreError(
            f"store {path}: is read-only for this user (the store and its folder must be writable, for its "
            "journal); fix the permissions or copy it somewhere writable"
        )
    if st.st_size == 0:
        return None
    header = read_head(path, 100)
    if header[: len(SQLITE_HEADER)] != SQLITE_HEADER:
        raise StoreError(
            f"store {path}: is not an azsim.vmss store (not a SQLite file); it was left untouched. "
            "Point the store option or AZSIM_VMSS_STORE at another path"
        )
    # SQLite only ever writes whole pages: a file that ends inside a page was cut short (a copy or a disk
    # that ran out), and SQLite would read the missing bytes as zeros instead of failing.
    page_size = int.from_bytes(header[16:18], "big") if len(header) >= 18 else 0
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1) or st.st_size % page_size:
        raise StoreError(
            f"store {path}: is damaged or not a database ({st.st_size} bytes is not a whole number of "
            f"{page_size}-byte pages: the file was cut short); it was left untouched. Move it aside and let "
            "azsim.vmss create a new one, or point the store option elsewhere"
        )
    return None


def check_owner(path: str, name: str, st: os.stat_result) -> None:
    """Like ssh's StrictModes: a store file or sidecar of another user, or that others may write, is not trusted."""
    if st.st_uid != os.geteuid():
        raise StoreError(
            f"store {path}: {name} is owned by uid {st.st_uid}, not by this user (uid {os.geteuid()}); it was left "
            f"untouched. chown it to this user if it is yours, or point the store option at a store of your own"
        )
    if st.st_mode & 0o022:
        raise StoreError(
            f"store {path}: {name} is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}); it was left "
            f"untouched. Run chmod 600 {name} (or chmod go-w) if it is yours, or point the store option elsewhere"
        )


def _check_folder(path: str, what: str = "store") -> None:
    """The store's folder: this user's or root's, and not writable by others unless sticky (as /tmp)."""
    folder = os.path.dirname(path)
    try:
        st = os.stat(folder)
    except OSError:
        return  # reported by whatever fails next, with its own reason
    if st.st_uid not in (os.geteuid(), 0):
        raise StoreError(
            f"{what} {path}: its folder {folder} is owned by uid {st.st_uid}, neither this user (uid {os.geteuid()}) "
            f"nor root; nothing was written. chown it to this user, or point the store option at a folder of your own"
        )
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        raise StoreError(
            f"{what} {path}: its folder {folder} is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}) "
            f"without the sticky bit, so another user could replace the store; nothing was written. Run chmod go-w "
            f"{folder} (or chmod +t), or point the store option at a folder of your own"
        )


def check_folder(path: str, what: str) -> None:
    """The folder of ``path`` (a store or a snapshot) as ``prepare_file`` checks a store's."""
    _check_folder(path, what)


def make_folders(folder: str) -> list[str]:
    """``folder`` and the folders above it that are missing, each made 0700; the ones made, deepest first."""
    return _make_folders(folder)


def _make_folders(folder: str) -> list[str]:
    """``os.makedirs`` with every new folder 0700 whatever the umask; the folders made, deepest first."""
    missing = []
    while not os.path.isdir(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    made: list[str] = []
    for new in reversed(missing):
        try:
            os.mkdir(new, 0o700)
        except FileExistsError:
            continue
        os.chmod(new, 0o700)  # mkdir's mode is masked by the umask
        made.insert(0, new)
    return made


def disk_error(path: str, exc: Exception) -> StoreError | None:
    """The real cause of an SQLite I/O failure, when it is the disk or a limit and not the data."""
    text = str(exc).lower()
    if "disk i/o error" not in text and "full" not in text and "unable to open" not in text:
        return None
    folder = os.path.dirname(path)
    try:
        vfs = os.statvfs(folder)
        free = vfs.f_bavail * vfs.f_frsize
    except OSError:
        free = -1
    if 0 <= free < 1024 * 1024 or ("full" in text and free < 0):
        return StoreError(
            f"store {path}: disk full ({exc}; {max(free, 0)} bytes free in {folder}); nothing was changed and the "
            "store was left as it was. Free some space and run the task again"
        )
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if soft != resource.RLIM_INFINITY:
        return StoreError(
            f"store {path}: file size limit of this process reached ({exc}; RLIMIT_FSIZE, ulimit -f, is {soft} "
            "bytes); nothing was changed and the store was left as it was. Raise the limit and run the task again"
        )
    if "full" in text:
        return StoreError(
            f"store {path}: disk full ({exc}); nothing was changed and the store was left as it was. Free some "
            "space (or check the file system's quota) and run the task again"
        )
    return None


def damaged(path: str, exc: Exception) -> StoreError:
    return StoreError(
        f"store {path}: is damaged or not a database ({exc}); move it aside and let azsim.vmss create a new one, "
        "or point the store option elsewhere"
    )


def check_ours(path: str, newest: int) -> None:
    """Refuse another application's database or a newer schema by reading the file's header only.

    SQLite is not asked: any connection to a WAL database writes its -shm index, and the last one to
    close checkpoints the WAL into the file. What only a pending WAL holds is checked again inside the
    first write transaction (``_migrate``).
    """
    header = _newest_page_one(path + "-wal") or read_head(path, 108)
    if len(header) < 108:
        raise StoreError(
            f"store {path}: is too short to be a SQLite database ({len(header)} bytes); it was left untouched. "
            "Move it aside and let azsim.vmss create a new one, or point the store option elsewhere"
        )
    # Database header: user_version at offset 60, application_id at 68 (big-endian). Page 1's b-tree
    # header follows at 100: page type (0x0D = leaf) and, at 103, how many schema entries it holds.
    version = int.from_bytes(header[60:64], "big")
    app_id = int.from_bytes(header[68:72], "big")
    has_schema = header[100] != 0x0D or int.from_bytes(header[103:105], "big") > 0
    if app_id != APPLICATION_ID and (app_id or version or has_schema):
        raise foreign(path)
    if version > newest:
        raise newer(path, version, newest)


def _newest_page_one(wal_path: str) -> bytes | None:
    """The first 108 bytes of page 1 as the last transaction committed to a WAL file left beside the database.

    WAL format: a 32-byte header (magic, version, page size, checkpoint, two salts, checksum), then
    frames of a 24-byte header (page number, database size after commit or 0, the salts, checksum) and
    one page. Frames whose salts differ are left over from before the last checkpoint.
    """
    try:
        handle = open(wal_path, "rb")
    except OSError:
        return None
    with handle:
        header = handle.read(32)
        if len(header) < 32 or int.from_bytes(header[0:4], "big") not in (0x377F0682, 0x377F0683):
            return None
        page_size = int.from_bytes(header[8:12], "big") or 65536
        salts = header[16:24]
        committed = pending = None
        while True:
            frame = handle.read(24)
            if len(frame) < 24 or frame[8:16] != salts:
                return committed
            page = handle.read(page_size)
            if len(page) < page_size:
                return committed
            if int.from_bytes(frame[0:4], "big") == 1:
                pending = page[:108]
            if int.from_bytes(frame[4:8], "big") and pending is not None:  # a commit frame
                committed, pending = pending, None


def foreign(path: str) -> StoreError:
    return StoreError(
        f"store {path}: is a SQLite database of another application, not an azsim.vmss store; it was left "
        "untouched. Point the store option or AZSIM_VMSS_STORE at another path"
    )


def newer(path: str, version: int, newest: int) -> StoreError:
    return StoreError(
        f"store {path}: has schema version {version}, newer than this azsim.vmss understands ({newest}); it was "
        "left untouched. Upgrade the azsim.vmss collection to use it"
    )
