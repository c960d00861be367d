# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put the offline get-pip stand-in where the ansible-test of the Python running this looks for its cached copy.

Usage: <venv>/bin/python tests/utils/install_get_pip.py

ansible-test bootstraps pip in each venv it makes with a get-pip.py it downloads from a host outside the
package registries, unless ``~/.ansible/test/cache/get_pip_<pip version, dots as _>.py`` exists; the pip
version is the one that ansible-test release pins, so each leg of the matrix runs this with its own venv's
Python (the Makefile's get-pip target does the same for the default venv).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

STAND_IN = Path(__file__).resolve().parent / "offline_get_pip.py"


def main() -> None:
    spec = importlib.util.find_spec("ansible_test")
    if spec is None or spec.origin is None:
        raise SystemExit("ansible_test is not installed with this Python (it comes with ansible-core)")
    requirements = Path(spec.origin).parent / "_internal" / "python_requirements.py"
    found = re.search(r"pip=.([0-9.]+).", requirements.read_text(encoding="utf-8"))
    if found is None:
        raise SystemExit(f"cannot find the pip version ansible-test bootstraps in {requirements}")
    cache = Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"get_pip_{found.group(1).replace('.', '_')}.py"
    shutil.copyfile(STAND_IN, target)
    target.chmod(0o644)


if __name__ == "__main__":
    main()
