#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: arm_endpoint
short_description: Start or stop the simulator's Azure Resource Manager endpoint
version_added: 0.1.0
description:
  - Starts, as a background process, the HTTPS endpoint that answers Azure Resource Manager's REST API on the
    same store as this collection's modules, so that the azure-mgmt-compute SDK, C(az), azure.azcollection and
    curl work against the simulator unchanged. Or stops it.
  - The endpoint keeps its CA, server certificate, token key, service principal, log (C(endpoint.log), one line
    per request, rotated at 16 MiB with three older files kept), pid file (C(endpoint.pid)) and JSON line
    (C(endpoint.json)) in O(state_dir).
  - Starting an endpoint that already runs there with the same settings changes nothing; with other settings it is
    stopped and started again. A pid file left by an endpoint that is gone (or whose pid another program now uses)
    is ignored.
  - The task waits until the endpoint answers over TLS, trusting only its own CA, and fails with the end of its log
    if it does not within 30 seconds.
  - O(subscription_id) is the subscription the endpoint announces (C(az login) picks it); any subscription id in a
    path works.
  - The same endpoint runs in the foreground with C(make serve). See docs/azure-endpoint.md for each client.
options:
  state:
    description:
      - V(started) starts the endpoint unless it already runs with these settings.
      - V(stopped) sends it SIGTERM (it stops cleanly, releasing the port and leaving the store valid) and waits for
        it to exit.
    type: str
    choices: [started, stopped]
    default: started
  host:
    description:
      - The address to listen on. Only a loopback address unless O(allow_remote=true).
    type: str
    default: 127.0.0.1
  allow_remote:
    description:
      - Allow O(host) to be an address other hosts can reach. Anyone who reaches the endpoint can change the store.
    type: bool
    default: false
  port:
    description:
      - The TCP port. V(0) picks a free one (see RV(base_url)); with V(0), an endpoint already running on any port
        counts as the same, and a restart or a later start takes the port the endpoint had last time (if it is
        free), so clients set up for it (C(az cloud register), azure-cli-core's cached cloud list) keep working.
    type: int
    default: 8443
  state_dir:
    description:
      - Where the endpoint keeps its files. Default C(arm-endpoint/) beside the store.
    type: path
  clock:
    description:
      - V(instant) (each request that starts a run first moves the virtual clock to its end, so no client waits),
        V(manual) (time moves only by M(azsim.vmss.sim_clock) or the endpoint's C(POST /azsim/clock)), or V(scaled)
        (before each request the virtual clock moves by the wall time elapsed times O(clock_scale), to watch a run
        live).
    type: str
    choices: [instant, manual, scaled]
    default: instant
  clock_scale:
    description:
      - With O(clock=scaled), virtual seconds per wall second (for example V(60) for a virtual minute a second).
        Default V(1).
    type: float
  tenant_id:
    description:
      - The tenant the endpoint's service principal belongs to. Generated once per O(state_dir) if not given.
    type: str
  client_id:
    description:
      - The service principal's client id. Generated once per O(state_dir) if not given.
    type: str
  client_secret:
    description:
      - The service principal's secret; the token route refuses any other as Azure AD does (C(AADSTS7000215)).
      - Generated once per O(state_dir) if not given. Kept in O(state_dir) with mode C(0600), never logged.
    type: str
attributes:
  check_mode:
    support: full
    details:
      - Nothing is started, stopped or written; C(changed) says whether it would be.
  diff_mode:
    support: full
    details:
      - Returns C(diff) with the endpoint's state and settings (never the secret) before and after.
  idempotent:
    support: full
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: none
    details:
      - Runs as its own module process, as every module does without an action plugin. The endpoint it starts is a
        daemon of its own, which must not be the child of one of Ansible's workers.
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
notes:
  - The endpoint outlives the playbook; stop it with O(state=stopped).
  - "Runs on the controller only (C(delegate_to: localhost) or a C(localhost) play), like every module of this
    collection."
  - "Ansible masks in results every value given to a C(no_log) option, so when O(client_secret) is given, RV(client_secret)
    and C(AZURE_SECRET) in RV(env) read C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER) (you know the secret). A generated secret
    is returned as it is: set C(no_log: true) on the task if its result may be shown (C(-v)) or logged. The endpoint
    never writes it to its log, and passes it to its process in the environment, not on the command line."
requirements:
  - cheroot
  - cryptography
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: Start the endpoint on a free port with a clock that waits for sim_clock
  azsim.vmss.arm_endpoint:
    port: 0
    clock: manual
  register: endpoint
  no_log: true

- name: Let the azure.azcollection modules of a later play find it
  ansible.builtin.set_fact:
    azure_env: "{{ endpoint.env }}"
  no_log: true

- name: Watch a run live, a virtual minute per wall second (restarts it, on the port it had)
  azsim.vmss.arm_endpoint:
    port: 0
    clock: scaled
    clock_scale: 60
  register: endpoint
  no_log: true

- name: Stop it
  azsim.vmss.arm_endpoint:
    state: stopped
"""

RETURN = r"""
base_url:
  description: The ARM base URL (with a trailing slash).
  returned: when started
  type: str
  sample: "https://127.0.0.1:8443/"
metadata_url:
  description: The cloud metadata URL in the list shape (api-version 2019-05-01), for E(ARM_CLOUD_METADATA_URL).
  returned: when started
  type: str
  sample: "https://127.0.0.1:8443/metadata/endpoints?api-version=2019-05-01"
metadata_url_single:
  description: The cloud metadata URL in the one-cloud shape (api-version 2022-09-01), what C(az cloud register) reads.
  returned: when started
  type: str
  sample: "https://127.0.0.1:8443/metadata/endpoints?api-version=2022-09-01"
ca_cert:
  description: The CA certificate (PEM) that signed the endpoint's server certificate; clients trust it.
  returned: when started
  type: str
  sample: /home/me/.ansible/azsim/arm-endpoint/ca.pem
tenant_id:
  description: The service principal's tenant.
  returned: when started
  type: str
client_id:
  description: The service principal's client id.
  returned: when started
  type: str
client_secret:
  description:
    - The service principal's secret. Masked by Ansible when given as O(client_secret); see the notes.
  returned: when started
  type: str
subscription_id:
  description: The subscription the endpoint announces.
  returned: when started
  type: str
  sample: 00000000-0000-0000-0000-000000000000
azure_config_dir:
  description: An az CLI configuration directory for this endpoint (E(AZURE_CONFIG_DIR)).
  returned: when started
  type: str
pid:
  description: The endpoint's process id (the one stopped, with O(state=stopped); null if none ran).
  returned: always
  type: int
env:
  description:
    - The environment variables each client needs (E(REQUESTS_CA_BUNDLE), E(SSL_CERT_FILE),
      E(ARM_CLOUD_METADATA_URL), E(AZURE_CONFIG_DIR), instance discovery off, E(AZURE_CLOUD_ENVIRONMENT), the
      service principal), as C(make serve) prints them.
  returned: when started
  type: dict
clock:
  description: The endpoint's clock mode.
  returned: when started
  type: str
  sample: instant
clock_scale:
  description: Virtual seconds per wall second with O(clock=scaled), else null.
  returned: when started
  type: float
store:
  description: The store the endpoint serves.
  returned: always
  type: str
state_dir:
  description: The endpoint's state directory.
  returned: always
  type: str
log_file:
  description: The endpoint's log (one line per request, never a body, header or secret).
  returned: when started
  type: str
pid_file:
  description: The endpoint's pid file.
  returned: when started
  type: str
"""

from ansible_collections.azsim.vmss.plugins.module_utils._front.arm_endpoint import main as run_module


def main() -> None:
    run_module()


if __name__ == "__main__":
    main()
