from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from migrator.models import AuditEntry, Connection, PortalMembership, Run
from migrator.roles import CUSTOMERS
from tests.factories import MigrationFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

MIGRATOR_MODELS = [m for m in admin.site._registry if m._meta.app_label == "migrator"]


@pytest.fixture
def staff_client(client, catalog):
    client.force_login(StaffUserFactory())
    return client


def test_every_migrator_model_is_registered():
    from django.apps import apps

    assert set(apps.get_app_config("migrator").get_models()) == set(MIGRATOR_MODELS)


@pytest.mark.parametrize("model", MIGRATOR_MODELS, ids=lambda m: m._meta.model_name)
def test_every_changelist_and_add_page_renders_for_staff(staff_client, model):
    MigrationFactory()
    opts = model._meta
    response = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200
    model_admin = admin.site._registry[model]
    add = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    if model_admin.has_add_permission(add.wsgi_request):
        assert add.status_code == 200
    else:
        assert add.status_code == 403


def test_migration_change_page_shows_its_inlines_and_next_steps(staff_client):
    migration = MigrationFactory()
    page = staff_client.get(reverse("admin:migrator_migration_change", args=[migration.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "discovery has not run" in body
    for inline in ("object mappings", "owner matches", "runs"):
        assert inline in body.lower()


def test_a_customer_is_kept_out_of_the_admin(client):
    user = UserFactory(is_staff=True)  # even marked staff by mistake
    user.groups.add(Group.objects.get(name=CUSTOMERS))
    PortalMembership.objects.create(user=user, client=MigrationFactory().client)
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_audit_entries_are_read_only_in_the_admin(staff_client):
    migration = MigrationFactory()
    run = Run.objects.create(migration=migration, kind=Run.Kind.FULL)
    entry = AuditEntry.objects.create(migration=migration, run=run, op=AuditEntry.Op.FAIL, source_object="patient",
                                      source_id="7", error_code="INVALID_DATA", error_field="Email")
    change_url = reverse("admin:migrator_auditentry_change", args=[entry.pk])
    page = staff_client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    staff_client.post(change_url, {"op": "create", "error_code": ""})
    assert staff_client.get(reverse("admin:migrator_auditentry_delete", args=[entry.pk])).status_code == 403
    entry.refresh_from_db()
    assert entry.op == AuditEntry.Op.FAIL
    assert entry.error_code == "INVALID_DATA"
    listing = staff_client.get(reverse("admin:migrator_auditentry_changelist"), {"op__exact": "fail"})
    assert listing.status_code == 200
    assert "INVALID_DATA" in listing.content.decode()


def test_connection_secrets_are_write_only_in_the_admin(staff_client):
    migration = MigrationFactory()
    conn = migration.destination_connection
    url = reverse("admin:migrator_connection_change", args=[conn.pk])
    form = {
        "client": conn.client_id, "platform": conn.platform_id, "role": conn.role, "name": conn.name,
        "config": "{}", "edition": "enterprise", "users": 3, "addon_credits": 0, "reserve": 0,
        "new_secrets": '{"client_id": "1000.ABC", "client_secret": "very-secret-value"}',
    }
    assert staff_client.post(url, form).status_code == 302
    conn.refresh_from_db()
    assert conn.get_secrets() == {"client_id": "1000.ABC", "client_secret": "very-secret-value"}
    page = staff_client.get(url).content.decode()
    assert "very-secret-value" not in page
    assert "1000.ABC" not in page
    assert conn.secrets_encrypted not in page
    assert "client_id, client_secret" in page  # the names only
    # Saving without new secrets keeps the stored ones.
    form["new_secrets"] = ""
    staff_client.post(url, form)
    conn.refresh_from_db()
    assert conn.get_secrets()["client_secret"] == "very-secret-value"
    assert Connection.objects.get(pk=conn.pk).users == 3
