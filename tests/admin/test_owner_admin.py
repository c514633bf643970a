"""Owner matches in the back office: staff confirm with the action, the migration's gate then opens."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from migrator.admin.owners import OwnerMatchResource
from migrator.models import DestinationUser, Migration, OwnerMatch
from migrator.services import owners as svc
from migrator.services.lifecycle import TransitionRefused, migration_transition
from tests.factories import (
    DestinationUserFactory,
    MigrationFactory,
    OwnerMatchFactory,
    StaffUserFactory,
)
from tests.pdf_text import pdf_text

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:migrator_ownermatch_changelist"


@pytest.fixture
def staff_client() -> tuple[HttpClient, object]:
    user = StaffUserFactory()
    client = HttpClient()
    client.force_login(user)
    return client, user


@pytest.fixture
def migration() -> Migration:
    migration = MigrationFactory(state=Migration.State.MAPPED)
    ayse = DestinationUserFactory(connection=migration.destination_connection, email="ayse@klinik.com", dest_id="u1")
    DestinationUserFactory(connection=migration.destination_connection, email="office@klinik.com", dest_id="u0")
    OwnerMatchFactory(source_owner__migration=migration, source_owner__source_id="P1",
                      source_owner__name="Ayşe Kaya", source_owner__record_counts={"patient": 4, "appointment": 2},
                      destination_user=ayse, method="exact_email", status="proposed")
    OwnerMatchFactory(source_owner__migration=migration, source_owner__source_id="P2",
                      source_owner__name="Işık Şahin", source_owner__record_counts={"patient": 3},
                      source_owner__active=False)
    OwnerMatchFactory(source_owner__migration=migration, source_owner__source_id="P3",
                      source_owner__name="Nobody Owns", source_owner__record_counts={})
    return migration


def post_action(client: HttpClient, action: str, matches: list[OwnerMatch]) -> str:
    response = client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [m.pk for m in matches]},
        follow=True,
    )
    assert response.status_code == 200
    return " ".join(str(m) for m in response.context["messages"])


def test_changelist_shows_record_counts_method_and_status(staff_client, migration) -> None:
    client, _ = staff_client
    page = client.get(reverse(CHANGELIST), {"migration__id__exact": migration.pk}).content.decode()
    assert "appointment: 2, patient: 4" in page
    assert "Exact email" in page and "Proposed" in page


def test_confirming_through_the_admin_and_assigning_the_fallback_opens_the_gate(staff_client, migration) -> None:
    client, user = staff_client
    p1 = OwnerMatch.objects.get(source_owner__source_id="P1", migration=migration)
    p2 = OwnerMatch.objects.get(source_owner__source_id="P2", migration=migration)
    assert "1 match(es) confirmed" in post_action(client, "confirm_selected", [p1])
    p1.refresh_from_db()
    assert (p1.status, p1.confirmed_by) == ("confirmed", user)
    with pytest.raises(TransitionRefused, match="P2"):
        migration_transition(migration=migration, to_state=Migration.State.OWNERS_CONFIRMED, user=user)

    assert "no fallback owner" in post_action(client, "assign_fallback", [p2])
    svc.migration_set_fallback_owner(migration=migration, email="office@klinik.com", user=user)
    assert "1 owner(s) given to the fallback owner" in post_action(client, "assign_fallback", [p2])
    migration_transition(migration=migration, to_state=Migration.State.OWNERS_CONFIRMED, user=user)
    assert migration.state == Migration.State.OWNERS_CONFIRMED


def test_confirming_a_match_without_a_user_is_refused_with_its_owner_id(staff_client, migration) -> None:
    client, _ = staff_client
    p2 = OwnerMatch.objects.get(source_owner__source_id="P2", migration=migration)
    assert "P2" in post_action(client, "confirm_selected", [p2])
    p2.refresh_from_db()
    assert p2.status == "unmatched"


def test_choosing_a_user_in_the_form_is_a_confirmed_manual_match(staff_client, migration) -> None:
    client, user = staff_client
    p2 = OwnerMatch.objects.get(source_owner__source_id="P2", migration=migration)
    office = DestinationUser.objects.get(connection=migration.destination_connection, dest_id="u0")
    url = reverse("admin:migrator_ownermatch_change", args=[p2.pk])
    response = client.post(url, {"destination_user": office.pk})
    assert response.status_code == 302
    p2.refresh_from_db()
    assert (p2.destination_user, p2.method, p2.status, p2.confirmed_by) == (office, "manual", "confirmed", user)


def test_the_form_refuses_a_user_of_another_destination(staff_client, migration) -> None:
    client, _ = staff_client
    stranger = DestinationUserFactory()      # a user of another client's CRM
    p2 = OwnerMatch.objects.get(source_owner__source_id="P2", migration=migration)
    response = client.post(reverse("admin:migrator_ownermatch_change", args=[p2.pk]),
                           {"destination_user": stranger.pk})
    assert response.status_code == 200       # the form comes back with an error
    p2.refresh_from_db()
    assert p2.destination_user is None


def test_autocomplete_offers_only_users_of_the_matchs_destination(staff_client, migration) -> None:
    client, _ = staff_client
    DestinationUserFactory(email="stranger@elsewhere.com")
    p2 = OwnerMatch.objects.get(source_owner__source_id="P2", migration=migration)
    change_url = reverse("admin:migrator_ownermatch_change", args=[p2.pk])
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "migrator", "model_name": "ownermatch", "field_name": "destination_user", "term": ""},
        headers={"referer": f"http://testserver{change_url}"},
    )
    ids = {r["id"] for r in response.json()["results"]}
    expected = {str(u.pk) for u in DestinationUser.objects.filter(connection=migration.destination_connection)}
    assert ids == expected


def test_export_then_import_assigns_users_by_email(staff_client, migration) -> None:
    _client, user = staff_client
    resource = OwnerMatchResource()
    exported = resource.export(queryset=OwnerMatch.objects.filter(migration=migration))
    rows = list(csv.DictReader(io.StringIO(exported.csv)))
    assert {r["source_owner_id"]: r["destination_user_email"] for r in rows} == {
        "P1": "ayse@klinik.com", "P2": "", "P3": ""}
    for row in rows:
        if row["source_owner_id"] == "P2":
            row["destination_user_email"] = "OFFICE@klinik.com"
        if row["source_owner_id"] == "P3":
            row["destination_user_email"] = "nobody@klinik.com"
    dataset = resource.export(queryset=OwnerMatch.objects.none())
    for row in rows:
        dataset.append([row[h] for h in dataset.headers])
    result = resource.import_data(dataset, dry_run=False, user=user)
    assert result.has_validation_errors() or result.has_errors()
    p2 = OwnerMatch.objects.get(source_owner__source_id="P2", migration=migration)
    assert p2.destination_user is None     # one bad row rolls the whole import back

    dataset = resource.export(queryset=OwnerMatch.objects.none())
    for row in rows:
        if row["source_owner_id"] != "P3":
            dataset.append([row[h] for h in dataset.headers])
    result = resource.import_data(dataset, dry_run=False, user=user)
    assert not (result.has_validation_errors() or result.has_errors())
    p2.refresh_from_db()
    assert (p2.destination_user.dest_id, p2.method, p2.status, p2.confirmed_by) == ("u0", "manual", "confirmed", user)


def test_unmatched_report_downloads_as_csv_and_pdf_with_the_rows_as_text(staff_client, migration) -> None:
    client, _ = staff_client
    url = reverse("admin:migrator_ownermatch_unmatched", args=[migration.pk, "csv"])
    rows = list(csv.DictReader(io.StringIO(client.get(url).content.decode())))
    assert [(r["source owner id"], r["patient records"], r["proposed action"]) for r in rows] == [
        ("P2", "3", "reassign")]
    pdf = client.get(reverse("admin:migrator_ownermatch_unmatched", args=[migration.pk, "pdf"])).content
    text = pdf_text(pdf)
    assert "P2" in text and "reassign" in text and "Unmatched owners" in text
