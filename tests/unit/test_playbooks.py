# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ready-made playbooks and the documentation's examples run as written, each on a fresh store.

Each playbook runs with ansible-playbook (the playbooks by their collection name, ``azsim.vmss.<name>``) against
its sample inventory; the test checks the return code and what it printed, read back as values (the rows of its
tables, tests/unit/_output.py) rather than as column-aligned lines. The YAML shown in
docs/seed-walkthrough.md must be the tasks docs/examples/seed_walkthrough.yml runs.
"""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.tests.unit import _playbook_runner
from ansible_collections.azsim.vmss.tests.unit._output import debug_msg, sections, split_row, table

# Ansible-playbook runs: the system tier (pyproject.toml), left out of `make units-fast`.
pytestmark = pytest.mark.system

ROOT = _playbook_runner.ROOT
FLEET = str(ROOT / "playbooks" / "inventory" / "fleet.ini")
DOC_EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.yml"))

# Lines that each docs example must print (checked on a fresh store).
DOC_EXAMPLE_LINES = {
    "seed_walkthrough.yml": [
        "from 2025-01-01T00:00:00Z to 2025-01-01T00:20:00Z",
        "WindowsAutomaticUpdatesEnabled at "
        "properties.virtualMachineProfile.osProfile.windowsConfiguration.enableAutomaticUpdates",
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


def no_warnings(output: str) -> None:
    assert "[WARNING]" not in output, f"ansible printed a warning:\n{output[-6000:]}"


def policy_rows(output: str) -> dict[str, dict[str, str]]:
    """The upgrade_policy role's table, one row per scale set (findings left out), by scale set."""
    lines = debug_msg(output, "azsim.vmss.upgrade_policy : Show the policy of each scale set")
    return {row.pop("SCALE SET"): row for row in table([line for line in lines if not line.startswith(" ")])}


ROLLING_POLICY = {"MODE": "Rolling", "AUTO-OS": "on", "ROLLBACK": "on", "BATCH/UNH/UPG": "20/25/25", "PAUSE": "PT0S"}
# The sample fleet's web group (fleet.ini): batches of two, web-04 fails to come back healthy in batch 4.
FLEET_BATCHES = [["web-01, web-06"], ["web-02, web-07"], ["web-03, web-08"], ["web-04, web-09"], ["web-05, web-10"]]


def rollout_sections(output: str) -> tuple[list[str], list[dict[str, str]], dict[str, dict[str, str]]]:
    """rolling_upgrade.yml's report: the run's line, its batches, and each instance's row by name."""
    summary, batches, instances = sections(debug_msg(output, "Show the run, its batches and each instance's outcome"))
    return summary, table(batches), {row.pop("INSTANCE"): row for row in table(instances)}


def test_rolling_upgrade_then_history_then_enforce_policy(tmp_path: Path, store: Path) -> None:
    """The sample fleet's rollout, read back by history.yml, then the policy enforced; each again changes nothing."""
    first = ok(
        run_playbook(["-i", FLEET, "azsim.vmss.rolling_upgrade"], tmp_path, store),
        "web-04: failed in batch 4, runs 24.04.202502010: look at it before the next image",
    )
    no_warnings(first)
    summary, batches, instances = rollout_sections(first)
    assert summary == [
        "rg-fleet/web: Completed, started by User, 00:00-00:24, to 24.04.202502010: 9 upgraded, 1 failed, 0 rolled back"
    ]
    assert [[row["INSTANCES"]] for row in batches] == FLEET_BATCHES
    assert [row["BATCH"] for row in batches] == ["1", "2", "3", "4", "5"]
    assert batches[3] == {
        "BATCH": "4",
        "TIME": "00:12-00:20",
        "RESULT": "partially_failed",
        "INSTANCES": "web-04, web-09",
    }
    assert {row["RESULT"] for i, row in enumerate(batches) if i != 3} == {"succeeded"}
    assert list(instances) == [f"web-{n:02d}" for n in range(1, 11)]
    assert instances["web-04"] == {
        "RESULT": "failed",
        "BATCH": "4",
        "IMAGE VERSION": "24.04.202502010",
        "HEALTH": "Unhealthy",
    }
    assert {
        (row["RESULT"], row["IMAGE VERSION"], row["HEALTH"]) for name, row in instances.items() if name != "web-04"
    } == {("upgraded", "24.04.202502010", "Healthy")}
    assert recap(first, "web-04")["ok"] == 1
    again = ok(run_playbook(["-i", FLEET, "azsim.vmss.rolling_upgrade"], tmp_path, store))
    assert recap(again)["changed"] == 0

    history = debug_msg(ok(run_playbook(["azsim.vmss.history"], tmp_path, store)), "Show the history")
    assert history[0] == "rg-fleet/web: 1 OS upgrade run(s), virtual now 2025-01-01T00:24:00Z"
    label = history.index("  batches of the most recent run:")
    assert table(history[1:label]) == [
        {
            "STATUS": "Completed",
            "BY": "User",
            "START": "2025-01-01 00:00",
            "MIN": "24",
            "TARGET": "24.04.202502010",
            "UPGRADED": "9",
            "FAILED": "1",
            "ROLLED BACK": "0",
            "ERROR": "",
        }
    ]
    assert [split_row(line) for line in history[label + 1 : -1]] == [
        [f"{row['BATCH']}.", row["TIME"], row["RESULT"], row["INSTANCES"]] for row in batches
    ]
    assert (
        history[-1] == "  instances: failed 1 (web-04); "
        "upgraded 9 (web-01, web-02, web-03, web-05, web-06, web-07, web-08, web-09, web-10)"
    )

    enforced = ok(run_playbook(["-i", FLEET, "azsim.vmss.enforce_policy"], tmp_path, store))
    no_warnings(enforced)
    assert policy_rows(enforced) == {
        "rg-fleet/web": {"RESULT": "changed", **ROLLING_POLICY},
        "rg-fleet/api": {"RESULT": "changed", **ROLLING_POLICY},
    }
    assert recap(enforced)["failed"] == 0
    again = ok(run_playbook(["-i", FLEET, "azsim.vmss.enforce_policy"], tmp_path, store))
    assert policy_rows(again) == {
        "rg-fleet/web": {"RESULT": "ok", **ROLLING_POLICY},
        "rg-fleet/api": {"RESULT": "ok", **ROLLING_POLICY},
    }
    assert recap(again)["changed"] == 0


def test_enforce_policy_on_a_fresh_store_and_its_failure_report(tmp_path: Path, store: Path) -> None:
    first = ok(run_playbook(["-i", FLEET, "azsim.vmss.enforce_policy"], tmp_path, store))
    assert policy_rows(first)["rg-fleet/web"] == {"RESULT": "changed", **ROLLING_POLICY}
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
    rows = policy_rows(output)
    assert list(rows) == ["rg-fleet/missing", "rg-fleet/web"]
    assert rows["rg-fleet/missing"]["RESULT"] == "FAILED"
    assert "does not exist in the store" in rows["rg-fleet/missing"]["MODE"]
    assert rows["rg-fleet/web"] == {"RESULT": "ok", **ROLLING_POLICY}


def test_history_on_a_fresh_store(tmp_path: Path, store: Path) -> None:
    Store.open(str(store)).close()  # empty: a read of a store that does not exist fails, by design
    ok(run_playbook(["azsim.vmss.history"], tmp_path, store), "rg-fleet: no scale set in the store")


def test_register_gallery_feature(tmp_path: Path, store: Path) -> None:
    first = ok(
        run_playbook(["azsim.vmss.register_gallery_feature"], tmp_path, store),
        "feature  Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage: Registering",
    )
    assert [split_row(line) for line in debug_msg(first, "Show what happened meanwhile and the final states")] == [
        ["00:15", "FeatureRegistered", "Registered"],
        ["00:15", "ProviderRegistrationStarted", "Registering"],
        ["00:17", "ProviderRegistered", "Registered"],
        ["feature", "Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage: Registered"],
        ["provider Microsoft.Compute: Registered"],
        ["opt-in complete: yes"],
    ]
    assert recap(first)["changed"] == 2
    again = ok(run_playbook(["azsim.vmss.register_gallery_feature"], tmp_path, store), "opt-in complete: yes")
    assert recap(again)["changed"] == 0


def test_rolling_upgrade_by_the_platform(tmp_path: Path, store: Path) -> None:
    """With the automatic trigger the platform starts the run 3 hours on and rolls the failed host back."""
    output = ok(
        run_playbook(
            ["-i", FLEET, "azsim.vmss.rolling_upgrade", "-e", "rolling_upgrade_trigger=automatic"], tmp_path, store
        ),
        "web-04: rolled back in batch 4, runs 24.04.202501010: look at it before the next image",
    )
    summary, batches, instances = rollout_sections(output)
    assert summary == [
        "rg-fleet/web: Completed, started by Platform, 03:00-03:27, to 24.04.202502010: "
        "9 upgraded, 1 failed, 1 rolled back"
    ]
    assert [[row["INSTANCES"]] for row in batches] == FLEET_BATCHES
    assert batches[3] == {
        "BATCH": "4",
        "TIME": "03:12-03:23",
        "RESULT": "partially_failed",
        "INSTANCES": "web-04, web-09",
    }
    assert instances["web-04"] == {
        "RESULT": "rolled_back",
        "BATCH": "4",
        "IMAGE VERSION": "24.04.202501010",
        "HEALTH": "Healthy",
    }


def test_demo_shows_the_plan_the_rollout_and_the_history_without_warnings(tmp_path: Path, store: Path) -> None:
    """make demo: the same rollout planned in check mode and then run, each instance's outcome, the history, and
    the follow-up on the rolled-back host; ansible prints no warning."""
    output = ok(
        run_playbook(
            ["-i", str(ROOT / "playbooks" / "inventory" / "demo.ini"), str(ROOT / "playbooks" / "demo.yml")],
            tmp_path,
            store,
        ),
        "web-04 was rolled back to 24.04.202501010: look at it before the next image",
    )
    no_warnings(output)
    timeline = [
        ["03:00", "the platform starts the OS upgrade to 24.04.202502010"],
        ["batch 1", "03:00-03:04", "web-01, web-06", "succeeded"],
        ["batch 2", "03:04-03:08", "web-02, web-07", "succeeded"],
        ["batch 3", "03:08-03:12", "web-03, web-08", "succeeded"],
        ["batch 4", "03:12-03:23", "web-04, web-09", "partially_failed"],
        ["batch 5", "03:23-03:27", "web-05, web-10", "succeeded"],
        ["03:27", "the run ends Completed"],
    ]
    plan = debug_msg(output, "Show the plan")
    assert plan[0] == "PLAN (check mode: simulated, nothing written)"
    assert [split_row(line) for line in plan[1:]] == timeline

    rollout, instances, history = sections(debug_msg(output, "Show the rollout, each instance, and the history"))
    assert rollout[0] == "ROLLOUT"
    assert [split_row(line) for line in rollout[1:]] == timeline
    assert split_row(instances[0]) == ["INSTANCES", "result", "image version", "health"]
    outcome = {row[0]: row[1:] for row in map(split_row, instances[1:])}
    assert list(outcome) == [f"web-{n:02d}" for n in range(1, 11)]
    assert outcome.pop("web-04") == ["rolled_back", "24.04.202501010", "Healthy"]
    assert {tuple(row) for row in outcome.values()} == {("upgraded", "24.04.202502010", "Healthy")}
    assert history[0] == "HISTORY (osUpgradeHistory, newest first)"
    assert [split_row(line) for line in history[1:]] == [
        ["Completed", "03:00-03:27", "startedBy Platform", "to 24.04.202502010: 9 upgraded, 1 failed, 1 rolled back"]
    ]
