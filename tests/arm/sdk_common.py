# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the SDK client scripts share (tests/arm/sdk_*_client.py, each run by the SDK venv's python, which finds this
file beside it): the SDK's clients made as a user makes them for this endpoint, and the seed's scale set body.
"""

from __future__ import annotations

from typing import Any

from azure.identity import ClientSecretCredential
from azure.mgmt.compute import ComputeManagementClient

LOCATION = "eastus"
IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}


def credential(info: dict[str, Any], secret: str | None = None) -> ClientSecretCredential:
    """The service principal of the endpoint's JSON line, with the endpoint as its authority (no discovery)."""
    return ClientSecretCredential(
        info["tenant_id"],
        info["client_id"],
        secret or info["client_secret"],
        authority=info["base_url"].rstrip("/"),
        disable_instance_discovery=True,
        connection_verify=info["ca_cert"],
    )


def client(info: dict[str, Any], secret: str | None = None, **kwargs: Any) -> ComputeManagementClient:
    """azure-mgmt-compute against the endpoint, trusting its CA."""
    return ComputeManagementClient(
        credential(info, secret),
        info["subscription_id"],
        base_url=info["base_url"].rstrip("/"),
        connection_verify=info["ca_cert"],
        **kwargs,
    )


def rolling_body(
    resource_group: str,
    capacity: int,
    batch_percent: int = 34,
    image: dict[str, str] | None = None,
    automatic: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Rolling scale set with a health probe, as the seed's REST example has it; automatic OS upgrade off unless
    ``automatic`` says otherwise (its fields merged into automaticOSUpgradePolicy)."""
    probe = f"/subscriptions/x/resourceGroups/{resource_group}/providers/Microsoft.Network/loadBalancers/lb/probes/http"
    return {
        "location": LOCATION,
        "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": capacity},
        "properties": {
            "upgradePolicy": {
                "mode": "Rolling",
                "rollingUpgradePolicy": {"maxBatchInstancePercent": batch_percent, "pauseTimeBetweenBatches": "PT0S"},
                "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": False, **(automatic or {})},
            },
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": image or IMAGE},
                "networkProfile": {"healthProbe": {"id": probe}},
            },
        },
    }
