"""The admin's "Roll back…" action: a confirmation page with the preview per module, then a rollback run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse

from migrator.models import Run, WorkUnit
from tests.factories import StaffUserFactory, UserFactory

from .rollback_support import Loader, migration_to, served_zoho

pytestmark = pytest.mark.django_db
URL = "admin:migrator_migration_changelist"


@pytest.fixture
def loaded() -> Iterator[Any]:
    with served_zoho() as (sim, url):
        migration = migration_to("zoho-crm", url, sim)
        loader = Loader(migration)
        loader.create_many("Contacts", "patient", [{"Last_Name": f"P{i}"} for i in range(3)])
        loader.close()
        yield migration


def test_roll_back_shows_the_preview_then_starts_a_rollback_run_on_confirmation(client: Any, loaded: Any) -> None:
    client.force_login(StaffUserFactory())
    base = {"action": "roll_back", ACTION_CHECKBOX_NAME: [loaded.pk]}

    page = client.post(reverse(URL), base)

    assert page.status_code == 200
    assert "admin/migrator/rollback_confirm.html" in [t.name for t in page.templates]
    assert page.context["preview"].totals.delete == 3
    assert b"rollback-preview" in page.content
    assert not Run.objects.filter(kind=Run.Kind.ROLLBACK).exists()

    done = client.post(reverse(URL), {**base, "scope": "1", "run": "", "source_object": "patient", "confirm": "1"},
                       follow=True)

    run = Run.objects.get(kind=Run.Kind.ROLLBACK, migration=loaded)
    assert run.options == {"source_object": "patient"}
    assert WorkUnit.objects.filter(run=run).count() == 1
    assert f"Rollback run {run.pk}" in " ".join(str(m) for m in done.context["messages"])


def test_roll_back_needs_the_change_permission(client: Any, loaded: Any) -> None:
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_migration"))
    client.force_login(viewer)

    page = client.get(reverse(URL))

    assert page.status_code == 200
    assert "roll_back" not in dict(page.context["action_form"].fields["action"].choices)


def test_the_command_previews_as_json_without_changing_anything(loaded: Any) -> None:
    import json
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("rollback", str(loaded.pk), "--preview", "--json", stdout=out)

    preview = json.loads(out.getvalue())
    assert preview["totals"]["delete"] == 3
    assert [m["module"] for m in preview["modules"]] == ["Contacts"]
    assert not Run.objects.filter(kind=Run.Kind.ROLLBACK).exists()
