# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy the checkout to DEST (a path ending in ansible_collections/azsim/vmss) for ansible-test.

ansible-test resolves symlinks and refuses a checkout that is not really inside an
``ansible_collections/<namespace>/<name>/`` tree, so the Makefile stages a copy. In a git work tree
the copied files are those git lists (tracked, plus untracked ones that .gitignore does not exclude);
elsewhere the tree is walked with the same exclusions. DEST is replaced, not merged, except for its
``tests/output`` (ansible-test's results), so a file deleted from the checkout disappears from it too.
DEST gets an empty git repository of its own (see ``_make_content_root``).

Usage: python tests/utils/stage_collection.py DEST
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "build",
        "collections",
        ".cache",
        ".pytest_cache",
        ".mypy_cache",
        ".hypothesis",
        "__pycache__",
        ".tox",
        ".ansible",
    }
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".tar.gz", ".retry")
KEPT_IN_DEST = os.path.join("tests", "output")


def _excluded(rel: str) -> bool:
    parts = rel.split(os.sep)
    if rel.startswith(KEPT_IN_DEST + os.sep) or any(part in EXCLUDED_DIRS for part in parts[:-1]):
        return True
    return rel.endswith(EXCLUDED_SUFFIXES)


def _git_files(root: str) -> list[str] | None:
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [name for name in out.decode("utf-8").split("\0") if name]


def _walked_files(root: str) -> list[str]:
    found: list[str] = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS)
        rel_dir = os.path.relpath(current, root)
        found.extend(os.path.normpath(os.path.join(rel_dir, name)) for name in files)
    return found


def stage(root: str, dest: str) -> int:
    root = os.path.realpath(root)
    dest_abs = os.path.abspath(dest)
    if os.path.realpath(dest_abs) == root:
        raise SystemExit(f"stage_collection: {dest} is the checkout itself (a symlink?); give a separate directory")
    if dest_abs.split(os.sep)[-3:-2] != ["ansible_collections"]:
        raise SystemExit(f"stage_collection: {dest} must end in ansible_collections/<namespace>/<name>")
    files = _git_files(root)
    if files is None:
        files = _walked_files(root)
    files = sorted(name for name in files if not _excluded(name) and os.path.lexists(os.path.join(root, name)))

    if os.path.islink(dest_abs):
        os.unlink(dest_abs)
    if os.path.isdir(dest_abs):
        for entry in os.listdir(dest_abs):
            path = os.path.join(dest_abs, entry)
            if entry == "tests":
                for sub in os.listdir(path):
                    if sub != "output":
                        _remove(os.path.join(path, sub))
            else:
                _remove(path)
    os.makedirs(dest_abs, exist_ok=True)
    for name in files:
        target = os.path.join(dest_abs, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(root, name), target, follow_symlinks=False)
    _make_content_root(dest_abs)
    return len(files)


def _make_content_root(dest: str) -> None:
    """Give DEST a git repository of its own (empty: no commit, nothing added).

    ansible-test lists a collection's files with git when it finds a ``.git`` in the collection or any
    directory above it. Without one here it would find the checkout's own repository, in which
    ``build/`` is ignored, and test nothing. ``git ls-files --others --exclude-standard`` in an empty
    repository lists every staged file that the copied .gitignore does not exclude.
    """
    if shutil.which("git") is None:
        return
    subprocess.run(["git", "init", "-q", dest], check=True)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir)
    count = stage(root, sys.argv[1])
    print(f"staged {count} files in {sys.argv[1]}")


if __name__ == "__main__":
    main()
