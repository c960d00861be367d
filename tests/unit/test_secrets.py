# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets: protected settings never show, anywhere a playbook run leaves text; the store is created 0600.

One ansible-playbook run with ``-vvv --diff`` (and a log file) sets ``extensions[].protected_settings``
holding credentials with unique marker strings (from a vars file, as a vault would give them), then
changes them, runs in check mode, reads the scale set, rolls out an image with an expired credential
(the run faults, the task fails), and fails a task on purpose with the secrets in its arguments. The
marker strings must not appear in the output, in the log, in any file the run left (the store included),
and no result may carry Ansible's mask ``********`` outside the echo of its own arguments: a mask in
a result means the module returned a secret and only Ansible's no_log filter hid it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

# An ansible-playbook -vvv run: the system tier (pyproject.toml), left out of `make units-fast`.
pytestmark = pytest.mark.system

PLAYBOOK = """
- name: Secrets never show
  hosts: localhost
  gather_facts: false
  vars_files:
    - secrets.json
  module_defaults:
    group/azsim.vmss.vmss:
      store: "{{ azsim_store }}"
  vars:
    image: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}
    extensions_with:
      - name: health
        publisher: Microsoft.ManagedServices
        type: ApplicationHealthLinux
        type_handler_version: "2.0"
        settings: {protocol: http, port: 80, requestPath: /health}
      - name: config
        publisher: Microsoft.Azure.Extensions
        type: CustomScript
        type_handler_version: "2.1"
        provision_after_extensions: [health]
        settings: {commandToExecute: "sh setup.sh"}
        protected_settings: "{{ protected }}"
        credential_expiry: "{{ expiry }}"
  tasks:
    - name: Publish the image
      azsim.vmss.vm_image: "{{ image | combine({'version': '1.0.0'}) }}"

    - name: Create the scale set with protected settings
      azsim.vmss.vmss:
        resource_group: rg-secrets
        name: web
        image: "{{ image | combine({'version': 'latest'}) }}"
        instances: [web-1, web-2, web-3]
        extensions: "{{ extensions_with }}"
      vars: {protected: "{{ first_secret }}", expiry: "2025-01-01T06:00:00Z"}
      register: created

    - name: The same again (idempotent)
      azsim.vmss.vmss:
        resource_group: rg-secrets
        name: web
        extensions: "{{ extensions_with }}"
      vars: {protected: "{{ first_secret }}", expiry: "2025-01-01T06:00:00Z"}
      register: again

    - name: Rotate the secret, in check mode first
      azsim.vmss.vmss:
        resource_group: rg-secrets
        name: web
        extensions: "{{ extensions_with }}"
      vars: {protected: "{{ second_secret }}", expiry: "2025-01-01T06:00:00Z"}
      check_mode: true
      register: rotated_check

    - name: Rotate the secret
      azsim.vmss.vmss:
        resource_group: rg-secrets
        name: web
        extensions: "{{ extensions_with }}"
      vars: {protected: "{{ second_secret }}", expiry: "2025-01-01T06:00:00Z"}
      register: rotated

    - name: Read the scale set
      azsim.vmss.vmss_info:
        resource_group: rg-secrets
        name: web
      register: info

    - name: A newer image
      azsim.vmss.vm_image: "{{ image | combine({'version': '1.1.0'}) }}"

    - name: The credential expires
      azsim.vmss.sim_clock:
        advance: PT7H

    - name: Roll out with an expired credential (the run faults, the task fails)
      azsim.vmss.vmss_os_rolling_upgrade:
        resource_group: rg-secrets
        name: web
      register: faulted
      ignore_errors: true

    - name: History
      azsim.vmss.vmss_upgrade_history:
        resource_group: rg-secrets
        name: web
      register: history

    - name: A refused change with the secrets in its arguments
      azsim.vmss.vmss:
        resource_group: rg-secrets
        name: web
        extensions: "{{ extensions_with }}"
      vars: {protected: "{{ second_secret }}", expiry: "next tuesday"}
      register: refused
      ignore_errors: true

    - name: A refusal by Ansible's own argument checks, with the secrets in the arguments
      azsim.vmss.vmss:
        resource_group: rg-secrets
        name: web
        extensions:
          - name: config
            publisher: Microsoft.Azure.Extensions
            type: CustomScript
            type_handler_version: "2.1"
            protected_settings: "{{ first_secret.password }}"
      register: bad_type
      ignore_errors: true

    - name: Everything the tasks returned, for the test to read
      ansible.builtin.copy:
        dest: "{{ results_file }}"
        content: "{{ {'created': created, 'again': again, 'rotated_check': rotated_check, 'rotated': rotated,
                      'info': info, 'faulted': faulted, 'history': history, 'refused': refused,
                      'bad_type': bad_type} | to_json }}"
        mode: "0600"
      no_log: true
"""


def _collections_dir() -> str:
    for entry in sys.path:
        if os.path.isdir(os.path.join(entry, "ansible_collections", "azsim", "vmss", "plugins")):
            return entry
    raise RuntimeError("ansible_collections.azsim.vmss is not on sys.path (tests/unit/conftest.py puts it there)")


def _without_invocation(value: Any) -> Any:
    """A task result minus Ansible's echo of the module arguments (where the mask belongs)."""
    if isinstance(value, dict):
        return {k: _without_invocation(v) for k, v in value.items() if k != "invocation"}
    if isinstance(value, list):
        return [_without_invocation(v) for v in value]
    return value


# In the task's worker (the action plugins' way with a local connection) and as the module's own process.
@pytest.mark.parametrize("in_process", [True, False], ids=["worker", "process"])
def test_protected_settings_never_appear_and_the_store_is_0600(tmp_path: Path, in_process: bool) -> None:
    markers = [f"azsim-secret-{uuid.uuid4().hex}" for _i in range(4)]
    secrets = {
        "first_secret": {"storageAccountKey": markers[0], "password": markers[1]},
        "second_secret": {"storageAccountKey": markers[2], "nested": {"sasToken": markers[3]}},
    }
    (tmp_path / "secrets.json").write_text(json.dumps(secrets))
    (tmp_path / "playbook.yml").write_text(PLAYBOOK)
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    store = tmp_path / "state" / "vmss.sqlite"
    results_file = tmp_path / "results.json"
    inventory = {
        "all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}
    }
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    log = tmp_path / "ansible.log"
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": _collections_dir(),
        "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"),
        "ANSIBLE_LOG_PATH": str(log),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "local-tmp"),
        "ANSIBLE_REMOTE_TEMP": str(tmp_path / "remote-tmp"),
        "AZSIM_VMSS_STORE": str(tmp_path / "forgotten.sqlite"),
    }
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-vvv",
            "--diff",
            "-i",
            "inventory.json",
            "-e",
            json.dumps(
                {"azsim_store": str(store), "results_file": str(results_file), "azsim_vmss_in_process": in_process}
            ),
            "playbook.yml",
        ],
        cwd=tmp_path,
        env={**env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=lambda: os.umask(0),  # the store must be 0600 whatever the umask
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert re.search(
        r"localhost\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0\s+skipped=0\s+rescued=0\s+"
        r"ignored=3",
        output,
    ), output

    results = json.loads(results_file.read_text())
    # The tasks did what they say, so that there was something to leak.
    assert results["created"]["changed"] is True and "diff" in results["created"]
    assert results["again"]["changed"] is False
    assert results["rotated_check"]["changed"] is True and "diff" in results["rotated_check"]
    assert results["rotated"]["changed"] is True
    assert results["faulted"]["failed"] is True and "CredentialExpired" in results["faulted"]["msg"]
    assert results["refused"]["failed"] is True and "credential_expiry" in results["refused"]["msg"]
    assert results["bad_type"]["failed"] is True
    assert "--- before" in output and "+++ after" in output  # --diff printed diffs
    assert "<localhost> EXEC" in output  # -vvv printed the connection's commands
    assert ("AnsiballZ_vmss.py" in output) is not in_process  # the module ran the way the test says

    # The markers: nowhere in the output, the log, or any file the run left (the secrets file aside).
    log_text = log.read_text()
    for marker in markers:
        assert marker not in output
        assert marker not in log_text
    for root, _dirs, files in os.walk(tmp_path):
        for name in files:
            path = Path(root) / name
            if path == tmp_path / "secrets.json":
                continue
            data = path.read_bytes()
            for marker in markers:
                assert marker.encode() not in data, f"{marker} found in {path}"
    # No secret was returned and merely masked by Ansible's no_log filter.
    shown = json.dumps(_without_invocation(results))
    assert "********" not in shown
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" not in shown
    # Not even the key comes back (Ansible's own type error aside, which names the option).
    named = json.dumps(_without_invocation({k: v for k, v in results.items() if k != "bad_type"}))
    assert "protected_settings" not in named and "protectedSettings" not in named

    # The store was created 0600 (its new folder 0700), with umask 0.
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700
