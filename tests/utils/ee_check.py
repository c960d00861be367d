# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make ee`: ansible-builder reads the collection's execution-environment metadata as an EE build would.

Usage: python tests/utils/ee_check.py COLLECTIONS_PATH TARBALL CONTEXT

``meta/execution-environment.yml`` is collection-level metadata (ansible-builder's "Collection-level
dependencies"): the paths in it are relative to the collection root, and ansible-builder reads it from each
collection it installs into an image. It is not an EE definition of its own (``ansible-builder create --file
meta/execution-environment.yml`` would look for meta/requirements.txt), so it is checked as builder uses it:

1. ``ansible-builder introspect COLLECTIONS_PATH`` on the collection installed from the tarball (what the image
   build runs after installing the collections) must find exactly requirements.txt's requirements without
   ansible-core (the image brings its own) and no system packages.
2. ``ansible-builder create`` on an EE definition (version 3, written into CONTEXT) that installs the
   collection from TARBALL, with the ansible-core that meta/runtime.yml's requires_ansible allows, must make
   a build context (no container is built): a Containerfile that installs the collections and runs the
   introspection, the tarball and the galaxy requirements in it.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
_ANSIBLE_CORE = re.compile(r"^\s*ansible[-_.]core\s*(?:[<>=!~;\[]|$)", re.IGNORECASE)


def _requirements(text: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def check_introspection(collections_path: Path) -> list[str]:
    installed = collections_path / "ansible_collections" / "azsim" / "vmss"
    if not (installed / "MANIFEST.json").is_file():
        return [f"{installed} is not an installed collection (no MANIFEST.json): run make collection-install"]
    found = yaml.safe_load(_run(["ansible-builder", "introspect", str(collections_path)])) or {}
    python = [entry.split("#", 1)[0].strip() for entry in found.get("python") or []]
    expected = [
        line
        for line in _requirements((ROOT / "requirements.txt").read_text(encoding="utf-8"))
        if not _ANSIBLE_CORE.match(line)
    ]
    problems = []
    if python != expected:
        problems.append(f"ansible-builder introspect found the Python requirements {python}, not {expected}")
    if found.get("system"):
        problems.append(f"ansible-builder introspect found system packages {found['system']}, none expected")
    return problems


def ansible_core_requirement() -> str:
    """ansible-core as meta/runtime.yml's requires_ansible allows it, e.g. ``ansible-core>=2.19.0``."""
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    return f"ansible-core{runtime['requires_ansible']}"


def ee_definition(tarball: Path) -> dict[str, object]:
    return {
        "version": 3,
        "images": {"base_image": {"name": "quay.io/fedora/fedora:latest"}},
        "dependencies": {
            "ansible_core": {"package_pip": ansible_core_requirement()},
            "ansible_runner": {"package_pip": "ansible-runner"},
            "python_interpreter": {"package_system": "python3", "python_path": "/usr/bin/python3"},
            # The image build copies the context's _build/ to /build and installs from there.
            "galaxy": {"collections": [{"name": f"collections/{tarball.name}", "type": "file"}]},
        },
        "additional_build_files": [{"src": str(tarball.resolve()), "dest": "collections"}],
    }


def check_create(tarball: Path, context: Path) -> list[str]:
    if context.exists():
        shutil.rmtree(context)
    context.mkdir(parents=True)
    definition = context / "execution-environment.yml"
    definition.write_text(yaml.safe_dump(ee_definition(tarball), sort_keys=False), encoding="utf-8")
    out = context / "context"
    _run(
        [
            "ansible-builder",
            "create",
            "--file",
            str(definition),
            "--context",
            str(out),
            "--output-filename",
            "Containerfile",
        ]
    )
    problems = []
    containerfile = out / "Containerfile"
    text = containerfile.read_text(encoding="utf-8") if containerfile.is_file() else ""
    for step in ("ansible-galaxy collection install", "introspect.py introspect", ansible_core_requirement()):
        if step not in text:
            problems.append(f"{containerfile} has no step with {step!r}")
    copied = out / "_build" / "collections" / tarball.name
    if not copied.is_file() or not filecmp.cmp(copied, tarball, shallow=False):
        problems.append(f"{copied} is not a copy of {tarball}")
    galaxy = out / "_build" / "requirements.yml"
    if not galaxy.is_file() or f"collections/{tarball.name}" not in galaxy.read_text(encoding="utf-8"):
        problems.append(f"{galaxy} does not name the collection tarball")
    return problems


def main() -> None:
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    collections_path, tarball, context = (Path(arg) for arg in sys.argv[1:])
    problems = check_introspection(collections_path) + check_create(tarball, context)
    if problems:
        raise SystemExit("ee: " + "\n  ".join(problems))
    print(f"ee: ansible-builder introspects azsim.vmss's requirements as requirements.txt's; context in {context}")


if __name__ == "__main__":
    main()
