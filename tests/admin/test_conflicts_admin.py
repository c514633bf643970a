"""The conflict admin with the Django test client: conflicts opened by a real delta (Zoho simulator over HTTP)
appear in the list, their page shows source beside CRM per field, and each way of resolving works from it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from migrator.models import AuditEntry, Conflict
from tests.factories import UserFactory
from tests.services.conflict_support import change_in_source, contacts, delta, edit_in_crm, loaded_migration
from tests.services.rollback_support import served_zoho

pytestmark = pytest.mark.django_db

Status = Conflict.Status


@pytest.fixture
def zoho() -> Iterator[Any]:
    with served_zoho() as served:
        yield served


@pytest.fixture
def operations_client(client: Any, catalog: None) -> Any:
    """Staff in the Operations group (not superusers): what the role may do is what is tested."""
    user = UserFactory(username="ops-conflicts", is_staff=True)
    user.groups.add(Group.objects.get(name="Operations"))
    client.force_login(user)
    return client


def test_conflicts_of_a_real_delta_are_listed_shown_side_by_side_and_resolved_each_way(
        operations_client: Any, zoho: Any, tmp_path: Any) -> None:
    sim, url = zoho
    migration = loaded_migration(sim=sim, url=url, out=tmp_path)
    links = contacts(migration, 4)
    for link in links:
        edit_in_crm(sim, link, {"Mailing_City": "Edited in the CRM"})
    change_in_source(tmp_path, [link.source_id for link in links], column="city", value="Source City")
    delta(migration)
    conflicts = {c.record_link.source_id: c for c in Conflict.objects.filter(migration=migration)}
    assert set(conflicts) == {link.source_id for link in links}
    a, b, c, d = (conflicts[link.source_id] for link in links)
    record = sim.state.records["Contacts"]

    listing = operations_client.get(reverse("admin:migrator_conflict_changelist") + "?status__exact=open")
    assert listing.status_code == 200
    assert listing.content.decode().count("Resolve…") == 4

    page = operations_client.get(reverse("admin:migrator_conflict_change", args=[a.pk]), follow=True)
    body = page.content.decode()
    assert page.status_code == 200 and 'id="conflict-fields"' in body
    assert "Mailing_City" in body and "Source City" in body and "Edited in the CRM" in body

    resolve = lambda conflict, **data: operations_client.post(  # noqa: E731
        reverse("admin:migrator_conflict_resolve", args=[conflict.pk]), data)

    assert resolve(a, keep_source="1").status_code == 302
    assert record[a.record_link.destination_id]["Mailing_City"] == "Source City"

    assert resolve(b, keep_destination="1").status_code == 302
    assert record[b.record_link.destination_id]["Mailing_City"] == "Edited in the CRM"

    # Per field: the city from the source; every other differing field keeps the CRM's value.
    c.refresh_from_db()
    choices = {f"field__{name}": "destination" for name in c.fields} | {"field__Mailing_City": "source"}
    assert resolve(c, per_field="1", **choices).status_code == 302
    assert record[c.record_link.destination_id]["Mailing_City"] == "Source City"

    # The list's bulk action: keep the CRM's values for the last one.
    changelist = reverse("admin:migrator_conflict_changelist")
    done = operations_client.post(changelist, {"action": "keep_destination", "_selected_action": [d.pk]},
                                  follow=True)
    assert "1 conflict(s) resolved" in done.content.decode()

    statuses = dict(Conflict.objects.filter(migration=migration).values_list("record_link__source_id", "status"))
    assert statuses == {a.record_link.source_id: Status.KEEP_SOURCE, b.record_link.source_id: Status.KEEP_DESTINATION,
                        c.record_link.source_id: Status.PER_FIELD, d.record_link.source_id: Status.KEEP_DESTINATION}
    assert Conflict.objects.filter(migration=migration, resolved_by__username="ops-conflicts").count() == 4
    codes = sorted(AuditEntry.objects.filter(migration=migration, error_code__startswith="CONFLICT_")
                   .values_list("error_code", flat=True))
    assert codes == ["CONFLICT_KEEP_DESTINATION", "CONFLICT_KEEP_DESTINATION", "CONFLICT_KEEP_SOURCE",
                     "CONFLICT_PER_FIELD"]

    # A resolved conflict's page has no buttons any more, and posting again changes nothing.
    again = operations_client.get(reverse("admin:migrator_conflict_resolve", args=[a.pk]))
    assert "keep_source" not in again.content.decode()
    resolve(a, keep_destination="1")
    assert Conflict.objects.get(pk=a.pk).status == Status.KEEP_SOURCE


def test_a_user_without_the_change_permission_sees_a_conflict_but_cannot_resolve_it(
        client: Any, catalog: None, zoho: Any) -> None:
    from tests.services.test_conflicts import _open_conflict

    world = _open_conflict(*zoho)
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_conflict"))
    client.force_login(viewer)
    url = reverse("admin:migrator_conflict_resolve", args=[world["conflict"].pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"keep_source": "1"}).status_code == 403
    assert Conflict.objects.get(pk=world["conflict"].pk).status == Status.OPEN
    world["loader"].close()

