# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real SDK calls on the routes beyond the first increment; run by the SDK venv's python.

``python sdk_routes_client.py PHASE`` with the endpoint's JSON line in ``AZSIM_ARM_INFO``, as
sdk_client.py. Every answer goes through the SDK's own models
(azure-mgmt-compute, azure-mgmt-resource, azure-mgmt-resource-features): attribute access below fails if
a REST shape is wrong. Each phase prints one JSON line of what it saw.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.resource.features import FeatureClient
from azure.mgmt.resource.resources import ResourceManagementClient
from sdk_common import LOCATION, client, credential, rolling_body  # type: ignore[import-not-found]

RG, NAME = "rg-sdk", "sdkvmss"
PUBLISHER, OFFER, SKU = "Canonical", "ubuntu-24_04-lts", "server"
GALLERY_RG, GALLERY, GALLERY_IMAGE = "rg-gallery", "gallery", "app"


def body(capacity: int, auto: bool = False, **auto_extra: Any) -> dict[str, Any]:
    image = {"publisher": PUBLISHER, "offer": OFFER, "sku": SKU}
    made: dict[str, Any] = rolling_body(
        RG, capacity, image=image, automatic={"enableAutomaticOSUpgrade": auto, **auto_extra}
    )
    return made


def create(info: dict[str, Any]) -> dict[str, Any]:
    """A scale set of 4 whose platform upgrades wait for approval (osRollingUpgradeDeferral)."""
    vmss = (
        client(info)
        .virtual_machine_scale_sets.begin_create_or_update(RG, NAME, body(4, auto=True, osRollingUpgradeDeferral=True))
        .result()
    )
    return {"capacity": vmss.sku.capacity}


def compute_routes(info: dict[str, Any]) -> dict[str, Any]:
    """PATCH (begin_update), instance views, VM sizes, manual upgrade, galleries."""
    compute = client(info)
    created = compute.virtual_machine_scale_sets.begin_create_or_update(RG, "routes", body(3)).result()
    patched = compute.virtual_machine_scale_sets.begin_update(RG, "routes", {"sku": {"capacity": 4}}).result()
    view = compute.virtual_machine_scale_sets.get_instance_view(RG, "routes")
    vm_view = compute.virtual_machine_scale_set_vms.get_instance_view(RG, "routes", "0")
    vm = compute.virtual_machine_scale_set_vms.get(RG, "routes", "3", expand="instanceView")
    sizes = [s.name for s in compute.virtual_machine_sizes.list(LOCATION)]
    compute.virtual_machine_scale_sets.begin_update_instances(RG, "routes", {"instanceIds": ["1"]}).result()
    versions = list(compute.gallery_image_versions.list_by_gallery_image(GALLERY_RG, GALLERY, GALLERY_IMAGE))
    one = compute.gallery_image_versions.get(GALLERY_RG, GALLERY, GALLERY_IMAGE, versions[-1].name)
    return {
        "created_capacity": created.sku.capacity,
        "patched_capacity": patched.sku.capacity,
        "patched_policy": patched.properties.upgrade_policy.rolling_upgrade_policy.max_batch_instance_percent,
        "summary": [(s.code, s.count) for s in view.virtual_machine.statuses_summary],
        "vm_statuses": [s.code for s in vm_view.statuses],
        "vm_health": vm_view.vm_health.status.code if vm_view.vm_health else None,
        "expanded": vm.properties.instance_view.computer_name if vm.properties.instance_view else None,
        "sizes": sizes,
        "gallery": [
            (v.name, v.properties.publishing_profile.exclude_from_latest, v.properties.provisioning_state)
            for v in versions
        ],
        "gallery_regions": [r.name for r in one.properties.publishing_profile.target_regions],
        "replication": one.properties.replication_status.aggregated_state,
    }


def images(info: dict[str, Any]) -> dict[str, Any]:
    """The catalogue walk of ``az vm image list --all`` and the ``:latest`` lookup of ``az vm image show``."""
    images_ops = client(info).virtual_machine_images
    publishers = [p.name for p in images_ops.list_publishers(LOCATION)]
    offers = [o.name for o in images_ops.list_offers(LOCATION, PUBLISHER)]
    skus = [s.name for s in images_ops.list_skus(LOCATION, PUBLISHER, OFFER)]
    versions = [v.name for v in images_ops.list(LOCATION, PUBLISHER, OFFER, SKU)]
    latest = images_ops.list(LOCATION, PUBLISHER, OFFER, SKU, orderby="name desc", top=1)
    image = images_ops.get(LOCATION, PUBLISHER, OFFER, SKU, latest[0].name)
    return {
        "publishers": publishers,
        "offers": offers,
        "skus": skus,
        "versions": versions,
        "latest": [v.name for v in latest],
        "os": image.properties.os_disk_image.operating_system,
        "auto_upgrade_supported": image.properties.automatic_os_upgrade_properties.automatic_os_upgrade_supported,
    }


def resources(info: dict[str, Any]) -> dict[str, Any]:
    """ResourceManagementClient (groups, providers) and FeatureClient: the seed's feature registration."""
    cred, base, ca = credential(info), info["base_url"].rstrip("/"), info["ca_cert"]
    arm = ResourceManagementClient(cred, info["subscription_id"], base_url=base, connection_verify=ca)
    features = FeatureClient(cred, info["subscription_id"], base_url=base, connection_verify=ca)
    existed = arm.resource_groups.check_existence("rg-sdk-res")
    group = arm.resource_groups.create_or_update("rg-sdk-res", {"location": "eastus", "tags": {"team": "sdk"}})
    exists = arm.resource_groups.check_existence("rg-sdk-res")
    groups = [g.name for g in arm.resource_groups.list()]
    before = features.features.get("Microsoft.Compute", "AutomaticOSUpgradeWithGalleryImage")
    registered = features.features.register("Microsoft.Compute", "AutomaticOSUpgradeWithGalleryImage")
    listed = [f.name for f in features.features.list("Microsoft.Compute")]
    provider = arm.providers.register("Microsoft.Compute")
    compute = arm.providers.get("Microsoft.Compute")
    vmss_type = next(t for t in compute.resource_types if t.resource_type == "virtualMachineScaleSets")
    arm.resource_groups.begin_delete("rg-sdk-res").result()
    return {
        "existed": existed,
        "group": [group.name, group.location, group.tags, group.properties.provisioning_state],
        "exists": exists,
        "groups": groups,
        "feature_before": before.properties.state,
        "feature_registered": [registered.name, registered.properties.state],
        "features_listed": listed,
        "provider": provider.registration_state,
        "api_version_0": vmss_type.api_versions[0],
        "after_delete": arm.resource_groups.check_existence("rg-sdk-res"),
    }


def approve(info: dict[str, Any]) -> dict[str, Any]:
    """approveRollingUpgrade without instance ids (design D11), then the run's progress."""
    compute = client(info)
    compute.virtual_machine_scale_sets.begin_approve_rolling_upgrade(RG, NAME).result()
    return latest(info)


def latest(info: dict[str, Any]) -> dict[str, Any]:
    status = client(info).virtual_machine_scale_set_rolling_upgrades.get_latest(RG, NAME).properties
    return {
        "code": status.running_status.code,
        "successful": status.progress.successful_instance_count,
        "pending": status.progress.pending_instance_count,
    }


class StripRetryAfter(SansIOHTTPPolicy):  # type: ignore[misc]
    """Drops Retry-After from every answer (a server that sends none) and counts the operation-status GETs."""

    def __init__(self) -> None:
        self.polls = 0  # GETs of the Azure-AsyncOperation status
        self.final_gets = 0  # the GET of Location (&monitor=true) a POST LRO makes once the status is terminal
        self.seen_retry_after = 0

    def on_request(self, request: PipelineRequest) -> None:
        url = request.http_request.url
        if "/operations/" in url and request.http_request.method == "GET":
            if "monitor=true" in url:
                self.final_gets += 1
            else:
                self.polls += 1

    def on_response(self, request: PipelineRequest, response: PipelineResponse) -> None:
        headers = response.http_response.headers
        for name in ("Retry-After", "retry-after-ms", "x-ms-retry-after-ms"):
            if name in headers:
                self.seen_retry_after += 1
                del headers[name]


def no_retry_after(info: dict[str, Any]) -> dict[str, Any]:
    """Without Retry-After an unfinished operation costs the SDK 30 s per poll (research §2.6): the endpoint
    must be terminal on the first poll. Counted, not timed."""
    hook = StripRetryAfter()
    compute = client(info, per_call_policies=[hook])
    compute.virtual_machine_scale_sets.begin_create_or_update(RG, "no-retry", body(2)).result()
    put_polls = hook.polls
    compute.virtual_machine_scale_set_rolling_upgrades.begin_start_os_upgrade(RG, "no-retry").result()
    return {
        "put_polls": put_polls,
        "post_polls": hook.polls - put_polls,
        "final_gets": hook.final_gets,
        "stripped": hook.seen_retry_after,
    }


PHASES = {
    "create": create,
    "compute_routes": compute_routes,
    "images": images,
    "resources": resources,
    "approve": approve,
    "latest": latest,
    "no_retry_after": no_retry_after,
}


def main() -> int:
    info = json.loads(os.environ["AZSIM_ARM_INFO"])
    print(json.dumps(PHASES[sys.argv[1]](info)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
