import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from escalation.services import send_bleep
from messaging.models import Device
from tests import factories
from tests.conftest import Ward


@pytest.fixture
def admin_client_with_data(ward: Ward) -> Client:
    send_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=factories.draft(ward.role),
        now=timezone.now(),
    )
    superuser = factories.make_person("root.admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
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
