# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip.py that ansible-test downloads to bootstrap pip in its venvs.

ansible-test fetches get-pip-<version>.py from a host outside the package registries and caches it
as ~/.ansible/test/cache/get_pip_<version>.py; ``make sanity`` writes this file there instead. It is
run with the arguments meant for get-pip.py (``--disable-pip-version-check pip==24.2 --no-setuptools
--no-wheel``): it installs the Python's bundled pip with ensurepip, then lets that pip install the
requested packages from the configured index (pip.conf / PIP_* settings apply).
"""

from __future__ import annotations

import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    for command in (["-m", "ensurepip", "--default-pip"], ["-m", "pip", "install", *args]):
        returncode = subprocess.call([sys.executable, *command])
        if returncode:
            sys.exit(returncode)


if __name__ == "__main__":
    main()
