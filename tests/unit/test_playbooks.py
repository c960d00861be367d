# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ready-made playbooks and the documentation's examples run as written, each on a fresh store.

Each playbook runs with ansible-playbook (the playbooks by their collection name, ``azsim.vmss.<name>``) against
its sample inventory; the test checks the return code and a line of the output a person reads. The YAML shown in
docs/seed-walkthrough.md must be the tasks docs/examples/seed_walkthrough.yml runs.
"""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from ansible_collections.azsim.vmss.tests.unit import _playbook_runner

# Ansible-playbook runs: the system tier (pyproject.toml), left out of `make units-fast`.
pytestmark = pytest.mark.system

ROOT = _playbook_runner.ROOT
FLEET = str(ROOT / "playbooks" / "inventory" / "fleet.ini")
DOC_EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.yml"))

# Lines that each docs example must print (checked on a fresh store).
DOC_EXAMPLE_LINES = {
    "seed_walkthrough.yml": [
        "from 2025-01-01T00:00:00Z to 2025-01-01T00:20:00Z",
        "WindowsAutomaticUpdatesEnabled at properties.virtualMachineProfile.osProfile.windowsConfiguration.enableAutomaticUpdates",
        "feature Registered, provider Registered",
        "Faulted: RollingUpgradeExtensionCredentialExpired",
        "Platform Completed 2025-01-01T03:17:00Z to 16.04.202002010: 10 upgraded,",
        "latest 16.04.202002010",
        "5 vm-05,vm-10 succeeded",
    ],
}


run_playbook = _playbook_runner.run_playbook


def ok(result: subprocess.CompletedProcess[str], *lines: str) -> str:
    """The output of a run that must have succeeded and printed every one of LINES."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"rc {result.returncode}:\n{output[-6000:]}"
    for line in lines:
        assert line in output, f"{line!r} not in the output:\n{output[-6000:]}"
    return output


def recap(output: str, host: str = "localhost") -> dict[str, int]:
    """The PLAY RECAP counters of HOST."""
    match = re.search(rf"^{re.escape(host)}\s+:\s+(.*)$", output, re.MULTILINE)
    assert match, f"no recap for {host}:\n{output[-3000:]}"
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store" / "vmss.sqlite"


@pytest.mark.parametrize("example", DOC_EXAMPLES, ids=[path.name for path in DOC_EXAMPLES])
def test_docs_example_runs(example: Path, tmp_path: Path, store: Path) -> None:
    result = run_playbook([str(example)], tmp_path, store)
    ok(result, *DOC_EXAMPLE_LINES.get(example.name, []))


def test_seed_walkthrough_shows_the_tasks_the_example_runs() -> None:
    """Every YAML block of docs/seed-walkthrough.md is in docs/examples/seed_walkthrough.yml, as tasks or play keys."""
    doc = (ROOT / "docs" / "seed-walkthrough.md").read_text(encoding="utf-8")
    playbook = (ROOT / "docs" / "examples" / "seed_walkthrough.yml").read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```$", doc, re.MULTILINE | re.DOTALL)
    assert len(blocks) >= 10
    for block in blocks:
        as_tasks = textwrap.indent(block, "    ")
        as_play_keys = textwrap.indent(block, "  ")
        assert as_tasks in playbook or as_play_keys in playbook, f"not in the example playbook:\n{block}"


def test_rolling_upgrade_then_history_then_enforce_policy(tmp_path: Path, store: Path) -> None:
    """The sample fleet's rollout, read back by history.yml, then the policy enforced; each again changes nothing."""
    first = ok(
        run_playbook(["-i", FLEET, "azsim.vmss.rolling_upgrade"], tmp_path, store),
        "rg-fleet/web: Completed, started by User, 00:00-00:24, to 24.04.202502010: 9 upgraded, 1 failed, 0 rolled back",
        "4      00:12-00:20  partially_failed  web-04, web-09",
        "web-04    failed           4      24.04.202502010  Unhealthy",
        "web-04: failed in batch 4, runs 24.04.202502010: look at it before the next image",
    )
    assert recap(first, "web-04")["ok"] == 1
    again = ok(run_playbook(["-i", FLEET, "azsim.vmss.rolling_upgrade"], tmp_path, store))
    assert recap(again)["changed"] == 0

    history = ok(
        run_playbook(["azsim.vmss.history"], tmp_path, store),
        "rg-fleet/web: 1 OS upgrade run(s), virtual now 2025-01-01T00:24:00Z",
        "    4. 00:12-00:20  partially_failed  web-04, web-09",
        "instances: failed 1 (web-04); upgraded 9 (",
    )
    assert re.search(r"Completed\s+User\s+2025-01-01 00:00 24\s+24\.04\.202502010\s+9\s+1\s+0", history), history

    enforced = ok(
        run_playbook(["-i", FLEET, "azsim.vmss.enforce_policy"], tmp_path, store),
        "rg-fleet/web                 changed  Rolling   on       on        20/25/25      PT0S",
        "rg-fleet/api                 changed  Rolling   on       on        20/25/25      PT0S",
    )
    assert recap(enforced)["failed"] == 0
    again = ok(
        run_playbook(["-i", FLEET, "azsim.vmss.enforce_policy"], tmp_path, store),
        "rg-fleet/web                 ok       Rolling",
    )
    assert recap(again)["changed"] == 0


def test_enforce_policy_on_a_fresh_store_and_its_failure_report(tmp_path: Path, store: Path) -> None:
    ok(
        run_playbook(["-i", FLEET, "azsim.vmss.enforce_policy"], tmp_path, store),
        "rg-fleet/web                 changed  Rolling   on       on        20/25/25      PT0S",
    )
    scale_sets = [
        {"resource_group": "rg-fleet", "name": "missing"},
        {"resource_group": "rg-fleet", "name": "web"},
    ]
    failed = run_playbook(
        ["-i", FLEET, "azsim.vmss.enforce_policy", "-e", json.dumps({"enforce_policy_scale_sets": scale_sets})],
        tmp_path,
        store,
    )
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output
    assert "1 of 2 scale sets cannot take the upgrade policy; nothing was written to them:" in output, output
    assert "- rg-fleet/missing:" in output, output
    assert "rg-fleet/web                 ok       Rolling" in output, output


def test_history_on_a_fresh_store(tmp_path: Path, store: Path) -> None:
    ok(run_playbook(["azsim.vmss.history"], tmp_path, store), "rg-fleet: no scale set in the store")


def test_register_gallery_feature(tmp_path: Path, store: Path) -> None:
    first = ok(
        run_playbook(["azsim.vmss.register_gallery_feature"], tmp_path, store),
        "feature  Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage: Registering",
        "00:15  FeatureRegistered            Registered",
        "00:17  ProviderRegistered           Registered",
        "opt-in complete: yes",
    )
    assert recap(first)["changed"] == 2
    again = ok(run_playbook(["azsim.vmss.register_gallery_feature"], tmp_path, store), "opt-in complete: yes")
    assert recap(again)["changed"] == 0


def test_rolling_upgrade_by_the_platform(tmp_path: Path, store: Path) -> None:
    """With the automatic trigger the platform starts the run 3 hours on and rolls the failed host back."""
    ok(
        run_playbook(["-i", FLEET, "azsim.vmss.rolling_upgrade", "-e", "rolling_upgrade_trigger=automatic"], tmp_path, store),
        "rg-fleet/web: Completed, started by Platform, 03:00-03:27, to 24.04.202502010: 9 upgraded, 1 failed, 1 rolled back",
        "4      03:12-03:23  partially_failed  web-04, web-09",
        "web-04: rolled back in batch 4, runs 24.04.202501010: look at it before the next image",
    )
