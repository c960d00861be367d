# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.azsim.vmss`` importable when pytest runs on a plain checkout.

Under ansible-test (or any checkout already at ``.../ansible_collections/azsim/vmss``) nothing is
done but putting that tree's parent on ``sys.path``. From a plain checkout, ``build/ansible_collections/
azsim/vmss`` is made a symlink to the checkout (the Makefile makes the same link) and ``build`` goes on
``sys.path``, so the tests import the code being edited, not a copy.

It also registers the hypothesis profiles (below) and loads the one ``HYPOTHESIS_PROFILE`` names.
"""

from __future__ import annotations

import os
import sys

from hypothesis import settings

_ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))


def _collections_dir() -> str:
    parts = _ROOT.split(os.sep)
    if parts[-3:-2] == ["ansible_collections"]:
        return os.sep.join(parts[:-3])
    build = os.path.join(_ROOT, "build")
    link = os.path.join(build, "ansible_collections", "azsim", "vmss")
    if os.path.realpath(link) != _ROOT:
        if os.path.lexists(link) and not os.path.islink(link):
            raise RuntimeError(f"{link} should be a symlink to {_ROOT}; remove it and run pytest again")
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if os.path.islink(link):
            os.unlink(link)
        try:
            os.symlink(_ROOT, link)
        except FileExistsError:  # made meanwhile by a parallel worker
            pass
    return build


# Every flush also checks that each loaded instance equals its stored row (_model/fleet.py): a change the engine
# forgot to mark fails the test that makes it, rather than being lost silently. Off in production and benchmarks.
os.environ.setdefault("AZSIM_VMSS_VERIFY_MARKS", "1")

_COLLECTIONS_DIR = _collections_dir()
if _COLLECTIONS_DIR not in sys.path:
    sys.path.insert(0, _COLLECTIONS_DIR)


# Hypothesis profiles. Every property takes its number of examples from the profile (none sets its own but the
# fixed, derandomized sample of test_hostile_input.py that checks its strategies reach success):
# ``ci`` is the thorough one (200 per property, as many as the most any property ran before the profiles;
# test_hostile_input.py runs ten times the profile's number per module), what `make units` and so `make test`
# run; ``dev`` is for the edit-test loop (`make units-fast`): a few examples each, no deadline.
# ``HYPOTHESIS_PROFILE`` chooses; without it, ``ci`` under CI=true and ``dev`` otherwise.
settings.register_profile("ci", max_examples=200)
settings.register_profile("dev", max_examples=10, deadline=None)


def _profile() -> str:
    chosen = os.environ.get("HYPOTHESIS_PROFILE")
    if chosen:
        return chosen
    return "ci" if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes") else "dev"


settings.load_profile(_profile())
