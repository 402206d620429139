"""REST for Web Push: the server's key, and registering, listing and deleting subscriptions."""

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from escalation.services.sending import send_bleep
from messaging import push
from messaging.models import PushSubscription
from messaging.services.devices import revoke_device
from tests import factories
from tests.conftest import Ward, client_for
from tests.push_service import BrowserSubscription, PushService, b64url

PATH = "/api/push/subscriptions"


def test_any_signed_in_device_gets_the_servers_application_key(ward: Ward) -> None:
    response = client_for(ward.nurse_token).get("/api/push/key")
    assert response.status_code == 200
    key = response.json()["public_key"]
    assert key == push.application_server_key()
    assert len(key) == 87 and "=" not in key  # 65 bytes, unpadded base64url
    assert APIClient().get("/api/push/key").status_code == 401


def test_a_browser_posts_its_subscription_as_tojson_gives_it_and_posting_again_is_200(
    ward: Ward, push_service: PushService
) -> None:
    browser = push_service.subscribe()
    client = client_for(ward.doctor_token)

    first = client.post(PATH, browser.to_json(), format="json")
    assert first.status_code == 201
    body = first.json()
    assert body["endpoint"] == browser.endpoint and body["current"] is True
    assert body["device"]["id"] == ward.doctor_device.pk and body["device"]["name"] == "phone"
    assert "auth" not in body and "p256dh" not in body

    again = client.post(PATH, browser.to_json(), format="json")
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    assert PushSubscription.objects.count() == 1


def test_the_same_browser_signed_in_as_another_device_moves_its_subscription_there(
    ward: Ward, push_service: PushService
) -> None:
    browser = push_service.subscribe()
    client_for(ward.doctor_token).post(PATH, browser.to_json(), format="json")
    moved = client_for(ward.nurse_token).post(PATH, browser.to_json(), format="json")
    assert moved.status_code == 201
    assert PushSubscription.objects.get().device == ward.nurse_device
    assert client_for(ward.doctor_token).get(PATH).json()["results"] == []


def test_i_see_the_subscriptions_of_all_my_live_devices_and_nobody_elses(
    ward: Ward, push_service: PushService
) -> None:
    tablet, tablet_token = factories.make_device(ward.doctor, "tablet")
    lost, lost_token = factories.make_device(ward.doctor, "lost phone")
    for token in (ward.doctor_token, tablet_token, lost_token, ward.nurse_token):
        client_for(token).post(PATH, push_service.subscribe().to_json(), format="json")
    revoke_device(device=lost, now=timezone.now())

    listed = client_for(ward.doctor_token).get(PATH).json()["results"]

    assert sorted((s["device"]["name"], s["current"]) for s in listed) == [
        ("phone", True),
        ("tablet", False),
    ]


def test_i_delete_my_subscriptions_and_someone_elses_is_not_found(
    ward: Ward, push_service: PushService
) -> None:
    tablet, tablet_token = factories.make_device(ward.doctor, "tablet")
    ids = {}
    for name, token in (("mine", ward.doctor_token), ("tablet", tablet_token)):
        response = client_for(token).post(PATH, push_service.subscribe().to_json(), format="json")
        ids[name] = response.json()["id"]
    doctor = client_for(ward.doctor_token)

    assert client_for(ward.nurse_token).delete(f"{PATH}/{ids['mine']}").status_code == 404
    assert doctor.delete(f"{PATH}/{ids['tablet']}").status_code == 204
    assert doctor.delete(f"{PATH}/{ids['mine']}").status_code == 204
    assert doctor.delete(f"{PATH}/{ids['mine']}").status_code == 404
    assert doctor.delete(f"{PATH}/999999").status_code == 404
    assert PushSubscription.objects.count() == 0


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        *parents, name = path.split(".")
        target = body
        for parent in parents:
            target = target[parent]
        if value is None:
            del target[name]
        else:
            target[name] = value

    return change


BROWSER = BrowserSubscription("https://fcm.googleapis.com/fcm/send/x")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_set("endpoint", "http://fcm.googleapis.com/fcm/send/x"), "endpoint"),
        (_set("endpoint", "https://intranet.hospital.example/admin"), "endpoint"),
        (_set("endpoint", "https://10.0.0.5/push"), "endpoint"),
        (_set("endpoint", "https://[fd00::1]/push"), "endpoint"),
        (_set("endpoint", "https://me:pw@fcm.googleapis.com/fcm/send/x"), "endpoint"),
        (_set("endpoint", None), "endpoint"),
        (_set("keys.p256dh", BROWSER.auth), "keys.p256dh"),
        (_set("keys.p256dh", b64url(b"\x04" + bytes(64))), "keys.p256dh"),
        (_set("keys.auth", b64url(bytes(8))), "keys.auth"),
        (_set("keys.auth", None), "keys.auth"),
        (_set("keys", None), "keys"),
        (_set("keys", "p256dh"), "keys"),
        (_set("keys.extra", "x"), "keys.extra"),
        (_set("subscriptionId", "x"), "subscriptionId"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_field_and_nothing_is_stored(
    ward: Ward, push_service: PushService, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    body = push_service.subscribe().to_json()
    change(body)
    response = client_for(ward.doctor_token).post(PATH, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == [field]
    assert response.json()["detail"].startswith(f"{field}: ")
    assert PushSubscription.objects.count() == 0


def test_a_subscription_registered_over_rest_is_woken_when_a_bleep_is_sent(
    ward: Ward, push_service: PushService
) -> None:
    browser = push_service.subscribe()
    client_for(ward.doctor_token).post(PATH, browser.to_json(), format="json")
    sent = send_bleep(
        sender=ward.nurse, device=None, draft=factories.draft(ward.role), now=ward.now
    )
    assert push.send_due_pushes(now=ward.now) == 1
    [received] = push_service.delivered()
    assert (received.endpoint, received.payload["bleep_id"]) == (browser.endpoint, sent.bleep.pk)
