from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from escalation.services.sending import send_bleep
from messaging.models import (
    Device,
    HistoryEntry,
    PushMessage,
    PushStatus,
    PushSubscription,
    SystemClient,
)
from messaging.push import register_push_subscription
from rota.models import RotaChange, Shift, Site
from rota.services.records import write_record
from tests import factories
from tests.conftest import Ward
from tests.escalation.test_admin import assert_shown_but_never_changed
from tests.messaging.test_history_integrity import check_history
from tests.push_service import BrowserSubscription


@pytest.fixture
def admin_client_with_data(ward: Ward) -> Client:
    browser = BrowserSubscription("https://fcm.googleapis.com/fcm/send/admin-test")
    register_push_subscription(
        device=ward.doctor_device,
        endpoint=browser.endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
        now=timezone.now(),
    )
    # Sending queues the push to the doctor's subscription.
    send_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=factories.draft(ward.role),
        now=timezone.now(),
    )
    superuser = factories.make_person("root.admin", is_staff=True, is_superuser=True)
    client = Client()
    factories.sign_in_to_admin(client, superuser)
    return client


def test_every_admin_list_and_first_object_page_opens(admin_client_with_data: Client) -> None:
    for model in admin.site._registry:
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert admin_client_with_data.get(changelist).status_code == 200, changelist
        first = model._default_manager.first()
        if first is not None:
            page = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            assert admin_client_with_data.get(page).status_code == 200, page


def test_the_admin_signs_out_a_device_through_the_service(
    admin_client_with_data: Client, ward: Ward
) -> None:
    response = admin_client_with_data.post(
        reverse("admin:messaging_device_changelist"),
        {"action": "revoke", "_selected_action": [ward.doctor_device.pk]},
    )
    assert response.status_code == 302
    assert Device.objects.get(pk=ward.doctor_device.pk).revoked_at is not None
    assert Device.objects.get(pk=ward.nurse_device.pk).revoked_at is None


def test_deleting_a_push_subscription_in_the_admin_drops_its_queued_pushes(
    admin_client_with_data: Client,
) -> None:
    subscription = PushSubscription.objects.get()
    changelist = reverse("admin:messaging_pushsubscription_changelist")
    found = admin_client_with_data.get(changelist, {"q": "omar.haddad"})
    assert b"fcm.googleapis.com" in found.content
    response = admin_client_with_data.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [subscription.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not PushSubscription.objects.exists()
    assert list(PushMessage.objects.values_list("status", flat=True)) == [PushStatus.GONE]


def test_a_shift_saved_in_the_admin_is_checked_and_audited(
    admin_client_with_data: Client, ward: Ward
) -> None:
    # Ten in the morning, in the admin's time zone: an end an hour before it is on the same
    # day whatever the time the test runs (at 00:30 "an hour before" was the day before).
    start = timezone.localtime(timezone.now() + timedelta(days=3)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    form = {
        "role": ward.role.pk,
        "person": ward.doctor.pk,
        "start_0": start.strftime("%Y-%m-%d"),
        "start_1": start.strftime("%H:%M:%S"),
        "end_0": start.strftime("%Y-%m-%d"),
        "end_1": (start - timedelta(hours=1)).strftime("%H:%M:%S"),
        "external_uid": "",
    }
    refused = admin_client_with_data.post(reverse("admin:rota_shift_add"), form)
    assert refused.status_code == 200  # the form again, with the error
    assert b"the end must be after the start" in refused.content
    assert not Shift.objects.filter(start__gte=start - timedelta(minutes=1)).exists()

    form["end_1"] = (start + timedelta(hours=12)).strftime("%H:%M:%S")
    form["end_0"] = (start + timedelta(hours=12)).strftime("%Y-%m-%d")
    saved = admin_client_with_data.post(reverse("admin:rota_shift_add"), form)
    assert saved.status_code == 302
    shift = Shift.objects.get(start__gte=start - timedelta(minutes=1))
    change = RotaChange.objects.get(model="Shift", object_id=shift.pk)
    assert change.action == "admin"
    assert change.actor is not None and change.actor.username == "root.admin"


def test_unticking_active_in_the_admin_signs_out_every_device_of_that_person(
    admin_client_with_data: Client, ward: Ward
) -> None:
    page = reverse("admin:rota_person_change", args=[ward.doctor.pk])
    form = admin_client_with_data.get(page).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "is_active": "",
            "date_joined_0": ward.doctor.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": ward.doctor.date_joined.strftime("%H:%M:%S"),
            "groups": [],
            "user_permissions": [],
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = admin_client_with_data.post(page, data)
    assert response.status_code == 302, response.content[:2000]
    assert not Device.objects.filter(user=ward.doctor, revoked_at__isnull=True).exists()
    assert Device.objects.filter(user=ward.nurse, revoked_at__isnull=True).exists()


@pytest.mark.hazard("HZ-19")
def test_the_admin_shows_but_never_changes_or_deletes_history_or_audit_rows(
    admin_client_with_data: Client, ward: Ward
) -> None:
    write_record(actor=ward.nurse, instance=Site(), changes={"name": "Audit"}, now=ward.now)

    for row in [HistoryEntry.objects.first(), RotaChange.objects.first()]:
        assert row is not None
        assert_shown_but_never_changed(admin_client_with_data, row)


@pytest.mark.hazard("HZ-19")
def test_a_device_named_in_a_history_cannot_be_deleted_so_the_history_stays_whole(
    admin_client_with_data: Client, ward: Ward
) -> None:
    entry = HistoryEntry.objects.get(device=ward.nurse_device, delivery=None)
    delete = reverse("admin:messaging_device_delete", args=[ward.nurse_device.pk])

    refused = admin_client_with_data.post(delete, {"post": "yes"})

    assert b"<title>Cannot delete device" in refused.content
    with pytest.raises(ProtectedError):
        ward.nurse_device.delete()
    assert HistoryEntry.objects.get(pk=entry.pk).device_id == ward.nurse_device.pk
    assert "history intact" in check_history()


@pytest.mark.hazard("HZ-08")
def test_the_admin_asks_a_superuser_signed_in_with_a_password_alone_for_a_code(
    db: None,
) -> None:
    superuser = factories.make_person("root.admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)

    refused = client.get(reverse("admin:index"))
    login = client.get(refused["Location"])

    assert refused.status_code == 302
    assert refused["Location"].startswith(reverse("admin:login"))
    assert 'name="otp_token"' in login.content.decode()


def test_a_superuser_creates_a_system_client_in_the_admin_and_sees_its_secret_once(
    admin_client_with_data: Client,
) -> None:
    add = reverse("admin:messaging_systemclient_add")
    form = {
        "client_id": "patientrack",
        "name": "Patientrack (observations)",
        "scopes": ["system/CommunicationRequest.write", "system/PractitionerRole.read"],
    }
    answer = admin_client_with_data.post(add, form, follow=True)
    assert answer.status_code == 200
    [message] = [str(m) for m in answer.context["messages"] if "secret" in str(m)]
    assert message.startswith("Client secret of patientrack: ")
    client = SystemClient.objects.get(client_id="patientrack")
    assert str(client.person) == "Patientrack (observations)"
    assert client.secret_digest not in answer.content.decode()
    again = admin_client_with_data.post(add, form)
    assert b"a client patientrack exists already" in again.content
    assert SystemClient.objects.count() == 1


def test_only_a_superuser_sees_system_clients_in_the_admin(ward: Ward) -> None:
    staff = factories.make_person("staff.admin", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="systemclient"))
    client = Client()
    factories.sign_in_to_admin(client, staff)
    assert client.get(reverse("admin:messaging_systemclient_changelist")).status_code == 403
