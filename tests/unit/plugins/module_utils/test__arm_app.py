# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ARM endpoint through its WSGI callable (no network): auth, envelope, routes, LRO, paging."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import auth
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.tests.unit._arm import (
    RG,
    SUBSCRIPTION,
    UBUNTU,
    VMSS,
    WsgiClient,
    in_store,
    make_app,
    state_files,
)
from ansible_collections.azsim.vmss.tests.unit._arm import scale_set_body as body


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-state"))


@pytest.fixture
def client(store_path: Path, files: StateFiles) -> WsgiClient:
    return WsgiClient(make_app(store_path, files))


@pytest.fixture
def published(store_path: Path) -> None:
    in_store(store_path, publish_image, **UBUNTU, version="1.0.0")


def publish(store_path: Path, version: str) -> None:
    in_store(store_path, publish_image, **UBUNTU, version=version)


# -- auth and discovery ----------------------------------------------------------------------------


def test_metadata_has_both_shapes_by_api_version(client: WsgiClient) -> None:
    listed = client.raw("GET", "/metadata/endpoints?api-version=2019-05-01")
    single = client.raw("GET", "/metadata/endpoints?api-version=2022-09-01")
    unknown = client.raw("GET", "/metadata/endpoints?api-version=2031-01-01")
    assert isinstance(listed.json, list) and isinstance(unknown.json, list)
    assert single.json == listed.json[0]
    assert single.json["resourceManager"] == "https://127.0.0.1:8443/"
    assert single.json["suffixes"] == {}
    assert client.raw("GET", "/metadata/endpoints").json["error"]["code"] == "MissingApiVersionParameter"


@pytest.mark.parametrize("tenant", ["72f988bf-0000-0000-0000-000000000001", "adfs", "common"])
def test_openid_configuration_for_any_tenant(client: WsgiClient, tenant: str) -> None:
    v2 = client.raw("GET", f"/{tenant}/v2.0/.well-known/openid-configuration").json
    assert v2["token_endpoint"] == f"https://127.0.0.1:8443/{tenant}/oauth2/v2.0/token"
    assert v2["authorization_endpoint"].endswith("/authorize")
    v1 = client.raw("GET", f"/{tenant}/.well-known/openid-configuration").json
    assert v1["token_endpoint"] == f"https://127.0.0.1:8443/{tenant}/oauth2/token"


def _token_request(client: WsgiClient, tenant: str, secret: str, path: str = "oauth2/v2.0/token", **extra: str) -> Any:
    identity = client.app.settings.files.identity
    form = {
        "grant_type": "client_credentials",
        "client_id": identity.client_id,
        "client_secret": secret,
        "scope": "https://management.azure.com/.default",
        "client_info": "1",
        **extra,
    }
    return client.raw("POST", f"/{tenant}/{path}", urllib.parse.urlencode(form).encode())


def test_token_is_a_signed_jwt_with_the_claims_clients_read(client: WsgiClient) -> None:
    identity = client.app.settings.files.identity
    answer = _token_request(
        client, identity.tenant_id, identity.client_secret, claims='{"access_token":{"xms_cc":{"values":["CP1"]}}}'
    )
    assert answer.status == 200, answer
    assert answer.json["token_type"] == "Bearer" and answer.json["expires_in"] == 3599
    header, claims, _sig = answer.json["access_token"].split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert decoded["aud"] == "https://management.azure.com/"
    assert decoded["tid"] == identity.tenant_id and decoded["appid"] == identity.client_id
    assert {"iss", "oid", "exp"} <= set(decoded)
    adfs = _token_request(client, "adfs", identity.client_secret, path="oauth2/token")
    assert adfs.status == 200


def test_wrong_secret_is_refused_as_aad_refuses_it(client: WsgiClient) -> None:
    identity = client.app.settings.files.identity
    answer = _token_request(client, identity.tenant_id, "not-the-secret")
    assert answer.status == 401
    assert answer.json["error"] == "invalid_client"
    assert answer.json["error_codes"] == [7000215]
    assert answer.json["error_description"].startswith("AADSTS7000215:")
    assert "not-the-secret" not in answer.raw.decode() and identity.client_secret not in answer.raw.decode()


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not.a.token", "Basic abc"])
def test_arm_routes_need_a_token_this_endpoint_signed(client: WsgiClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = client.raw("GET", f"{VMSS}?api-version=2024-11-01", headers=headers)
    assert answer.status == 401
    assert answer.json["error"]["code"] == "AuthenticationFailed"
    assert (answer.header("WWW-Authenticate") or "").startswith('Bearer authorization_uri="https://127.0.0.1:8443/')


def test_a_token_signed_with_another_key_or_expired_is_refused(client: WsgiClient, files: StateFiles) -> None:
    forged = auth.issue_token(b"k" * 32, "iss", "t", "c", "https://management.azure.com/.default")
    expired = auth.issue_token(files.token_key, "iss", "t", "c", "s", now=1_000_000)
    for token in (forged, expired):
        answer = client.raw("GET", f"{VMSS}?api-version=2024-11-01", headers={"Authorization": f"Bearer {token}"})
        assert answer.status == 401


def test_a_token_seen_before_is_still_checked_for_its_key_and_expiry() -> None:
    # The endpoint keeps the claims of the tokens it checked (auth._signed_claims), not the verdict: the key and
    # the expiry are checked again at every request.
    key, other = b"a" * 32, b"b" * 32
    token = auth.issue_token(key, "iss", "t", "c", "s", now=1_000_000)
    claims = auth.verify_token(key, token, now=1_000_000)
    assert claims is not None and claims["appid"] == "c"
    claims["exp"] = 10**12  # what a caller does with the claims does not change the kept ones
    assert auth.verify_token(key, token, now=1_000_000 + auth.TOKEN_LIFETIME + 1) is None
    assert auth.verify_token(other, token, now=1_000_000) is None
    assert auth.verify_token(key, token, now=1_000_000) is not None


# -- the envelope and the conventions --------------------------------------------------------------


def test_every_answer_has_a_request_id_and_echoes_the_client_one(client: WsgiClient) -> None:
    answers = [
        client.raw("GET", "/metadata/endpoints?api-version=2019-05-01", headers={"x-ms-client-request-id": "abc"}),
        client.arm("GET", VMSS, headers={"x-ms-client-request-id": "abc"}),
        client.raw("GET", "/nowhere"),
    ]
    for answer in answers:
        assert answer.header("x-ms-request-id")
    assert answers[0].header("x-ms-correlation-request-id") == "abc"


def test_missing_api_version_unknown_route_wrong_method(client: WsgiClient) -> None:
    assert client.arm("GET", VMSS, api_version=None).json["error"]["code"] == "MissingApiVersionParameter"
    unknown = client.arm("GET", f"{VMSS}/nothingHere")
    assert unknown.status == 404 and "error" in unknown.json
    wrong = client.arm("PATCH", f"{VMSS}/osUpgradeHistory")
    assert wrong.status == 405 and wrong.json["error"]["code"] == "MethodNotAllowed"


def test_malformed_json_and_missing_location_in_the_envelope(client: WsgiClient) -> None:
    bad = client.raw(
        "PUT", f"{VMSS}?api-version=2024-11-01", b"{not json", {"Authorization": f"Bearer {client.token()}"}
    )
    assert bad.status == 400 and bad.json["error"]["code"] == "InvalidRequestContent"
    no_location = client.arm("PUT", VMSS, {"properties": {}})
    assert no_location.status == 400 and no_location.json["error"]["code"] == "LocationRequired"


def test_not_found_is_resource_not_found(client: WsgiClient) -> None:
    answer = client.arm("GET", VMSS)
    assert answer.status == 404
    assert answer.json["error"]["code"] == "ResourceNotFound"
    assert "virtualMachineScaleSets/web" in answer.json["error"]["message"]


def test_an_image_the_catalogue_lacks_is_404(client: WsgiClient) -> None:
    answer = client.arm("PUT", VMSS, body())
    assert answer.status == 404 and answer.json["error"]["code"] == "ResourceNotFound"


def test_requirements_not_met_is_400_with_details(client: WsgiClient, published: None) -> None:
    doc = body()
    del doc["properties"]["virtualMachineProfile"]["networkProfile"]  # rolling mode without a health source
    answer = client.arm("PUT", VMSS, doc)
    assert answer.status == 400, answer
    error = answer.json["error"]
    assert error["code"] == "InvalidParameter"
    assert error["details"] and all({"code", "target", "message"} <= set(d) for d in error["details"])
    assert client.arm("GET", VMSS).status == 404, "a refused PUT writes nothing"


def test_a_bug_answers_500_in_the_envelope_without_a_traceback(
    client: WsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import routes_compute

    def broken(*_args: Any) -> Any:
        raise KeyError("boom")

    monkeypatch.setattr(routes_compute, "scale_set_info", broken)
    answer = client.arm("GET", VMSS)
    assert answer.status == 500
    assert answer.json["error"]["code"] == "InternalServerError"
    assert "Traceback" not in answer.raw.decode() and "boom" not in answer.raw.decode()


# -- scale sets ------------------------------------------------------------------------------------


def test_put_creates_by_capacity_then_get_and_lists(client: WsgiClient, published: None) -> None:
    created = client.arm("PUT", VMSS, body(capacity=3))
    assert created.status == 201, created
    assert created.header("Azure-AsyncOperation") and created.header("Retry-After") == "1"
    vmss = created.json
    assert vmss["sku"]["capacity"] == 3 and vmss["properties"]["provisioningState"] == "Succeeded"
    policy = vmss["properties"]["upgradePolicy"]
    assert policy["mode"] == "Rolling" and policy["automaticOSUpgradePolicy"]["enableAutomaticOSUpgrade"] is True
    assert client.arm("GET", VMSS).json == vmss
    vms = client.arm("GET", f"{VMSS}/virtualMachines").json["value"]
    assert [vm["name"] for vm in vms] == ["web_0", "web_1", "web_2"]
    assert [vm["properties"]["osProfile"]["computerName"] for vm in vms] == ["web_0", "web_1", "web_2"]
    assert vms[0]["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.0.0"
    assert client.arm("GET", f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets").json["value"] == [vmss]
    everything = client.arm("GET", f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Compute/virtualMachineScaleSets")
    assert [v["name"] for v in everything.json["value"]] == ["web"]


def test_routes_match_case_insensitively(client: WsgiClient, published: None) -> None:
    assert client.arm("PUT", VMSS, body()).status == 201
    lower = VMSS.replace("resourceGroups", "resourcegroups").replace("Microsoft.Compute", "microsoft.compute")
    assert client.arm("GET", lower).json["name"] == "web"
    assert client.arm("GET", f"{lower}/ROLLINGUPGRADES/LATEST").status in (200, 404)


def test_put_again_without_image_keeps_it_and_scales(client: WsgiClient, published: None) -> None:
    assert client.arm("PUT", VMSS, body(capacity=2)).status == 201
    publish(Path(client.app.settings.store_path), "1.1.0")
    doc = body(capacity=4)
    del doc["properties"]["virtualMachineProfile"]["storageProfile"]
    updated = client.arm("PUT", VMSS, doc)
    assert updated.status == 200, updated
    reference = updated.json["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]
    assert reference == {**UBUNTU, "version": "latest"}
    vms = client.arm("GET", f"{VMSS}/virtualMachines").json["value"]
    assert [vm["name"] for vm in vms] == ["web_0", "web_1", "web_2", "web_3"]


def test_get_output_put_back_changes_nothing(client: WsgiClient, published: None) -> None:
    created = client.arm("PUT", VMSS, body()).json
    again = client.arm("PUT", VMSS, created)
    assert again.status == 200 and again.json == created


def test_delete(client: WsgiClient, published: None) -> None:
    """Azure's DELETE of a scale set is an LRO: 202 with its headers; 204 when there is nothing to delete."""
    client.arm("PUT", VMSS, body())
    deleted = client.arm("DELETE", VMSS)
    assert deleted.status == 202 and deleted.header("Retry-After") == "1"
    assert _poll(client, deleted.header("Azure-AsyncOperation") or "").json["status"] == "Succeeded"
    assert _poll(client, deleted.header("Location") or "").status == 200
    assert client.arm("DELETE", VMSS).status == 204
    assert client.arm("GET", VMSS).status == 404


def test_scale_set_made_by_a_module_action_is_seen_by_the_endpoint(
    client: WsgiClient, published: None, store_path: Path
) -> None:
    in_store(
        store_path,
        ensure_scale_set,
        resource_group="rg",
        name="web",
        image={**UBUNTU, "version": "latest"},
        instances=["host-a", "host-b"],
    )
    vms = client.arm("GET", f"{VMSS}/virtualMachines").json["value"]
    assert [(vm["name"], vm["properties"]["osProfile"]["computerName"]) for vm in vms] == [
        ("web_0", "host-a"),
        ("web_1", "host-b"),
    ]


# -- rolling upgrades and LROs ---------------------------------------------------------------------


def running_status(client: WsgiClient) -> str:
    return str(client.arm("GET", f"{VMSS}/rollingUpgrades/latest").json["properties"]["runningStatus"]["code"])


def _poll(client: WsgiClient, url: str) -> Any:
    path = url.split("https://127.0.0.1:8443", 1)[1]
    return client.raw("GET", path, headers={"Authorization": f"Bearer {client.token()}"})


def test_os_rolling_upgrade_lro_is_terminal_on_the_first_poll(
    client: WsgiClient, published: None, store_path: Path
) -> None:
    client.arm("PUT", VMSS, body(capacity=5))
    publish(store_path, "1.1.0")
    started = client.arm("POST", f"{VMSS}/osRollingUpgrade")
    assert started.status == 202 and started.raw == b""
    assert started.header("Retry-After") == "1"
    async_url, location = started.header("Azure-AsyncOperation"), started.header("Location")
    assert async_url and location == async_url + "&monitor=true"
    assert "/providers/Microsoft.Compute/locations/eastus/operations/" in async_url
    assert "api-version=2024-11-01" in async_url
    status = _poll(client, async_url)
    assert status.status == 200 and status.json["status"] == "Succeeded", status
    monitor = _poll(client, location)
    assert monitor.status == 200 and monitor.json["status"] == "Succeeded"
    latest = client.arm("GET", f"{VMSS}/rollingUpgrades/latest").json
    assert latest["properties"]["runningStatus"]["code"] == "Completed"
    assert latest["properties"]["progress"]["successfulInstanceCount"] == 5
    vms = client.arm("GET", f"{VMSS}/virtualMachines").json["value"]
    assert {vm["properties"]["storageProfile"]["imageReference"]["exactVersion"] for vm in vms} == {"1.1.0"}


def test_a_forged_operation_id_is_not_found(client: WsgiClient) -> None:
    answer = client.arm(
        "GET",
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Compute/locations/eastus/"
        "operations/eyJrIjoib3MifQ.0123456789abcdef01234567",
    )
    assert answer.status == 404 and answer.json["error"]["code"] == "OperationNotFound"


def test_latest_without_any_run_is_404_and_cancel_idle_is_409(client: WsgiClient, published: None) -> None:
    client.arm("PUT", VMSS, body())
    assert client.arm("GET", f"{VMSS}/rollingUpgrades/latest").status == 404
    cancel = client.arm("POST", f"{VMSS}/rollingUpgrades/cancel")
    assert cancel.status == 409
    assert cancel.json["error"] == {
        "code": "OperationNotAllowed",
        "message": "There is no ongoing Rolling Upgrade to cancel.",
    }


def test_pinned_image_refuses_os_upgrade_with_409(client: WsgiClient, published: None) -> None:
    doc = body(version="1.0.0")
    doc["properties"]["upgradePolicy"] = {"mode": "Manual"}
    assert client.arm("PUT", VMSS, doc).status == 201
    answer = client.arm("POST", f"{VMSS}/osRollingUpgrade")
    assert answer.status == 409 and answer.json["error"]["code"] == "OperationNotAllowed"


def test_manual_clock_second_start_409_cancel_and_status(store_path: Path, files: StateFiles, published: None) -> None:
    client = WsgiClient(make_app(store_path, files, clock="manual"))
    doc = body(capacity=5)
    doc["properties"]["upgradePolicy"]["automaticOSUpgradePolicy"]["enableAutomaticOSUpgrade"] = False
    client.arm("PUT", VMSS, doc)
    publish(store_path, "1.1.0")
    started = client.arm("POST", f"{VMSS}/osRollingUpgrade")
    assert started.status == 202
    running = _poll(client, started.header("Azure-AsyncOperation") or "")
    assert running.json["status"] == "InProgress" and running.header("Retry-After") == "1"
    monitor = _poll(client, started.header("Location") or "")
    assert monitor.status == 202 and monitor.header("Location")
    again = client.arm("POST", f"{VMSS}/osRollingUpgrade")
    assert again.status == 409
    assert "another rolling upgrade operation is in progress" in again.json["error"]["message"]
    assert running_status(client) == "RollingForward"
    cancelled = client.arm("POST", f"{VMSS}/rollingUpgrades/cancel")
    assert cancelled.status == 202
    moved = client.raw("POST", "/azsim/clock", json.dumps({"advance": "PT1H"}).encode())
    assert moved.status == 200 and moved.json["now"] > moved.json["previous"]
    assert _poll(client, cancelled.header("Azure-AsyncOperation") or "").json["status"] == "Succeeded"
    final = _poll(client, started.header("Azure-AsyncOperation") or "").json
    assert final["status"] == "Canceled" and final["error"]["code"]
    assert running_status(client) == "Cancelled"


def test_history_pages_with_an_absolute_next_link(store_path: Path, files: StateFiles, published: None) -> None:
    client = WsgiClient(make_app(store_path, files, page_size=2))
    client.arm("PUT", VMSS, body(capacity=2))
    for version in ("1.1.0", "1.2.0", "1.3.0"):
        publish(store_path, version)
        assert client.arm("POST", f"{VMSS}/osRollingUpgrade").status == 202
    first = client.arm("GET", f"{VMSS}/osUpgradeHistory").json
    assert len(first["value"]) == 2
    next_link = first["nextLink"]
    assert next_link.startswith("https://127.0.0.1:8443/subscriptions/")
    assert "api-version=2024-11-01" in next_link and "$skiptoken=2" in next_link
    second = _poll(client, next_link).json
    assert len(second["value"]) == 1 and "nextLink" not in second
    versions = [i["properties"]["targetImageReference"]["version"] for i in first["value"] + second["value"]]
    assert versions == ["1.3.0", "1.2.0", "1.1.0"]
    assert client.arm("GET", f"{VMSS}/osUpgradeHistory?$skiptoken=x").status == 400


def test_clock_route_reads_and_refuses_bad_input(client: WsgiClient) -> None:
    read = client.raw("GET", "/azsim/clock")
    assert read.status == 200 and read.json["now"] == "2025-01-01T00:00:00Z" and read.json["mode"] == "instant"
    bad = client.raw("POST", "/azsim/clock", json.dumps({"advance": "soon"}).encode())
    assert bad.status == 400 and bad.json["error"]["code"] == "InvalidParameter"
