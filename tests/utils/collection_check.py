# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of `make collection`: what the built tarball holds, and that the installed copy's demo prints what the
checkout's does.

Usage:
  python tests/utils/collection_check.py tarball TARBALL
      Every file in TARBALL is a file of the checkout (git lists it: tracked, or untracked and not ignored),
      none is local output (venvs, build/, tests/output, caches: galaxy.yml's build_ignore must keep them
      out), and what users of the installed collection need is in it: meta/runtime.yml, the files
      meta/execution-environment.yml names (ansible-builder reads them from the installed collection),
      the demo playbook and its inventory.
  python tests/utils/collection_check.py same-output CHECKOUT_OUTPUT INSTALLED_OUTPUT
      The two ansible-playbook outputs are the same, but for the order of the per-host lines within a task
      (hosts run in parallel forks and report in the order they finish).
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
# ansible-galaxy writes these two into every tarball.
GENERATED = frozenset({"MANIFEST.json", "FILES.json"})
# Never in a tarball, whatever git says: local output of make, pytest, mypy, ruff, hypothesis, ansible-test.
LOCAL_OUTPUT = (
    ".git/*",
    ".venv/*",
    "build/*",
    "collections/*",
    "tests/output/*",
    ".cache/*",
    "*/__pycache__/*",
    "__pycache__/*",
    ".pytest_cache/*",
    ".mypy_cache/*",
    ".ruff_cache/*",
    ".hypothesis/*",
    ".ansible/*",
    "*.pyc",
    "*.tar.gz",
)
NEEDED = ("meta/runtime.yml", "meta/execution-environment.yml", "playbooks/demo.yml", "playbooks/inventory/demo.ini")
# A line that starts one host's result in ansible-playbook's default output.
_HOST_RESULT = re.compile(r"^(ok|changed|skipping|failed|fatal|included|rescued|ignored|unreachable): \[")


def _checkout_files() -> set[str] | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {name for name in out.decode("utf-8").split("\0") if name}


def tarball_problems(tarball: Path) -> list[str]:
    with tarfile.open(tarball) as archive:
        members = {member.name.removeprefix("./") for member in archive.getmembers() if not member.isdir()}
    local = {name for name in members if any(fnmatch.fnmatch(name, pattern) for pattern in LOCAL_OUTPUT)}
    problems = [
        f"{name}: local output in the tarball (add its folder or pattern to galaxy.yml build_ignore)"
        for name in sorted(local)
    ]
    checkout = _checkout_files()
    if checkout is not None:
        problems += [
            f"{name}: in the tarball but not a file of the checkout (git ignores it): add it to galaxy.yml build_ignore"
            for name in sorted(members - GENERATED - local - checkout)
        ]
    needed = list(NEEDED)
    ee = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text(encoding="utf-8")) or {}
    needed += [path for path in (ee.get("dependencies") or {}).values() if isinstance(path, str)]
    problems += [
        f"{name}: missing from the tarball (build_ignore leaves it out?)" for name in needed if name not in members
    ]
    return problems


def _normalised(text: str) -> list[str]:
    """The output with each task's host results sorted: each result is its first line and what follows it."""
    lines: list[str] = []
    results: list[list[str]] = []

    def flush() -> None:
        for result in sorted(results):
            lines.extend(result)
        results.clear()

    for line in text.splitlines():
        if _HOST_RESULT.match(line):
            results.append([line])
        elif results and line.strip() and not line.startswith(("TASK [", "PLAY [", "PLAY RECAP", "RUNNING HANDLER")):
            results[-1].append(line)
        else:
            flush()
            lines.append(line)
    flush()
    return lines


def output_difference(checkout: Path, installed: Path) -> list[str]:
    ours, theirs = (_normalised(path.read_text(encoding="utf-8")) for path in (checkout, installed))
    if not ours:
        return [f"{checkout} is empty"]
    return list(difflib.unified_diff(ours, theirs, str(checkout), str(installed), lineterm=""))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "tarball":
        problems = tarball_problems(Path(sys.argv[2]))
        if problems:
            raise SystemExit(f"{sys.argv[2]}:\n  " + "\n  ".join(problems))
        with tarfile.open(sys.argv[2]) as archive:
            count = sum(1 for member in archive.getmembers() if member.isfile())
        print(f"{os.path.basename(sys.argv[2])}: {count} files, all of the checkout, nothing local")
    elif len(sys.argv) == 4 and sys.argv[1] == "same-output":
        difference = output_difference(Path(sys.argv[2]), Path(sys.argv[3]))
        if difference:
            raise SystemExit(
                "the installed collection's demo prints otherwise than the checkout's:\n" + "\n".join(difference)
            )
        print("the installed collection's demo printed what the checkout's printed")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
