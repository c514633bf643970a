"""Owner matching through the services: extraction, proposals, flags, decisions, the gate and resolution."""

from __future__ import annotations

import pytest

from connectors.base import DestUser, SourceOwner
from migrator.models import Migration, OwnerMatch
from migrator.models import SourceOwner as SourceOwnerRow
from migrator.services import owners as svc
from migrator.services.lifecycle import TransitionRefused, migration_transition
from tests.factories import MigrationFactory, StaffUserFactory
from tests.services.owner_fakes import FakeDestination, FakeSource

pytestmark = pytest.mark.django_db

OWNERS = [
    SourceOwner("P1", "Ayşe Kaya", "Ayse.Kaya@klinik.com", "provider"),           # exact (case)
    SourceOwner("P2", "Mehmet Yılmaz", "mehmet.yilmaz@klinik.com.tr", "provider"),  # domain alias
    SourceOwner("P3", "Işık Şahin", "", "hygienist"),                              # name only
    SourceOwner("P4", "Zeynep Demir", "zeynep@klinik.com", "staff", active=False),  # left the practice
    SourceOwner("P5", "Can Öztürk", "can.ozturk+dt@gmail.com", "provider"),        # gmail dots and tag
    SourceOwner("P6", "Elif Arslan", "elif@klinik.com", "staff"),                  # owns nothing
]
USERS = [
    DestUser("u1", "ayse.kaya@klinik.com", "Ayse Kaya"),
    DestUser("u2", "mehmet.yilmaz@klinik.com", "Mehmet Yilmaz"),
    DestUser("u3", "isahin@klinik.com", "Isik Sahin"),
    DestUser("u5", "canozturk@gmail.com", "Can Ozturk"),
    DestUser("u9", "old.admin@klinik.com", "Old Admin", active=False),
    DestUser("u0", "office@klinik.com", "Front Office"),
]
RECORDS = {
    "patient": ["P1", "P1", "P2", "P3", "P4", "P4", "P4", None, "P5", "P7"],
    "appointment": ["P1", "P2", "P2", "P4", "P5", "P5"],
}


@pytest.fixture
def connectors(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeSource, FakeDestination]:
    source, destination = FakeSource(OWNERS, RECORDS, issues=1), FakeDestination(USERS)
    monkeypatch.setattr(svc, "source_connector", lambda connection: source)
    monkeypatch.setattr(svc, "destination_connector", lambda connection: destination)
    return source, destination


@pytest.fixture
def migration(connectors: tuple[FakeSource, FakeDestination]) -> Migration:
    migration = MigrationFactory(state=Migration.State.MAPPED)
    svc.owners_extract(migration=migration)
    return migration


def match_of(migration: Migration, source_id: str) -> OwnerMatch:
    return OwnerMatch.objects.select_related("destination_user").get(
        migration=migration, source_owner__source_id=source_id
    )


def propose(migration: Migration) -> svc.ProposeResult:
    return svc.owner_matches_propose(migration=migration, domain_aliases={"klinik.com.tr": "klinik.com"})


def test_extract_counts_records_per_owner_and_object(
    migration: Migration, connectors: tuple[FakeSource, FakeDestination]
) -> None:
    counts = {o.source_id: o.record_counts for o in SourceOwnerRow.objects.filter(migration=migration)}
    assert counts["P1"] == {"patient": 2, "appointment": 1}
    assert counts["P4"] == {"patient": 3, "appointment": 1}
    assert counts["P6"] == {}
    assert match_of(migration, "P5").record_count == 3
    assert all(c.closed for c in connectors)


def test_extract_keeps_owner_ids_found_only_on_records_as_unknown_owners(migration: Migration) -> None:
    unknown = SourceOwnerRow.objects.get(migration=migration, source_id="P7")
    assert (unknown.role, unknown.active, unknown.record_counts) == ("unknown", False, {"patient": 1})


def test_extract_fetches_active_and_inactive_destination_users(migration: Migration) -> None:
    users = migration.destination_connection.destination_users.all()
    assert {u.dest_id: u.active for u in users}["u9"] is False
    assert users.count() == len(USERS)


def test_extract_reports_unowned_records_and_unreadable_rows(connectors: tuple[FakeSource, FakeDestination]) -> None:
    result = svc.owners_extract(migration=MigrationFactory())
    assert result.records_without_owner == {"patient": 1}
    assert result.record_issues == 2
    assert (result.owners, result.unknown_owners, result.destination_users) == (7, 1, 6)


def test_proposals_use_exact_then_normalised_email_then_names(migration: Migration) -> None:
    propose(migration)
    got = {sid: (match_of(migration, sid).method, match_of(migration, sid).status) for sid in ["P1", "P2", "P3", "P4",
                                                                                            "P5", "P7"]}
    assert got == {
        "P1": ("exact_email", "proposed"),
        "P2": ("normalized_email", "proposed"),
        "P3": ("name_suggestion", "needs_review"),
        "P4": ("none", "unmatched"),
        "P5": ("normalized_email", "proposed"),
        "P7": ("none", "unmatched"),
    }
    assert match_of(migration, "P3").destination_user.dest_id == "u3"


def test_name_suggestions_are_never_confirmed_by_confirm_exact(migration: Migration) -> None:
    propose(migration)
    confirmed = svc.owner_matches_confirm_exact(migration=migration, user=StaffUserFactory())
    assert confirmed == 1
    assert match_of(migration, "P1").status == "confirmed"
    assert match_of(migration, "P3").status == "needs_review"
    assert match_of(migration, "P2").status == "proposed"


def test_two_owners_on_one_user_are_flagged_shared_user_and_need_review(migration: Migration) -> None:
    SourceOwnerRow.objects.filter(migration=migration, source_id="P6").update(email="AYSE.KAYA@klinik.com")
    propose(migration)
    for sid in ("P1", "P6"):
        match = match_of(migration, sid)
        assert (match.flags, match.status) == (["shared_user"], "needs_review")
    assert svc.owner_matches_confirm_exact(migration=migration, user=None) == 0


def test_a_match_to_an_inactive_user_is_flagged(migration: Migration) -> None:
    SourceOwnerRow.objects.filter(migration=migration, source_id="P4").update(email="Old.Admin@klinik.com")
    propose(migration)
    match = match_of(migration, "P4")
    assert (match.method, match.flags, match.status) == ("exact_email", ["inactive_user"], "needs_review")


def test_proposing_again_keeps_decisions_people_made(migration: Migration) -> None:
    propose(migration)
    staff = StaffUserFactory()
    office = migration.destination_connection.destination_users.get(dest_id="u0")
    svc.owner_match_assign(match=match_of(migration, "P4"), destination_user=office, user=staff)
    svc.owner_match_confirm(matches=match_of(migration, "P3"), user=staff)
    result = propose(migration)
    assert result.kept == 2
    assert (match_of(migration, "P4").method, match_of(migration, "P4").destination_user) == ("manual", office)
    assert match_of(migration, "P3").confirmed_by == staff


def test_confirm_records_who_and_when_and_refuses_matches_without_a_user(migration: Migration) -> None:
    propose(migration)
    staff = StaffUserFactory()
    assert svc.owner_match_confirm(matches=[match_of(migration, "P1"), match_of(migration, "P2")], user=staff) == 2
    match = match_of(migration, "P2")
    assert match.confirmed_by == staff and match.confirmed_at is not None
    with pytest.raises(svc.OwnerError, match="P4"):
        svc.owner_match_confirm(matches=match_of(migration, "P4"), user=staff)


def test_manual_assignment_refuses_a_user_of_another_destination(migration: Migration) -> None:
    other = MigrationFactory()
    svc.destination_users_fetch(connection=other.destination_connection)
    stranger = other.destination_connection.destination_users.get(dest_id="u0")
    with pytest.raises(svc.OwnerError, match="another connection"):
        svc.owner_match_assign(match=match_of(migration, "P4"), destination_user=stranger, user=None)


def test_fallback_owner_must_be_an_active_user_of_the_destination(migration: Migration) -> None:
    with pytest.raises(svc.OwnerError, match="inactive"):
        svc.migration_set_fallback_owner(migration=migration, email="old.admin@klinik.com", user=None)
    with pytest.raises(svc.OwnerError, match="no user"):
        svc.migration_set_fallback_owner(migration=migration, email="nobody@klinik.com", user=None)
    chosen = svc.migration_set_fallback_owner(migration=migration, email=" Office@Klinik.com", user=None)
    migration.refresh_from_db()
    assert migration.fallback_owner == chosen


def test_assigning_the_fallback_needs_one_to_be_set(migration: Migration) -> None:
    with pytest.raises(svc.OwnerError, match="no fallback owner"):
        svc.owner_match_assign_fallback(matches=[match_of(migration, "P4")], user=None)


def test_unresolved_lists_owners_with_records_and_no_confirmed_match(migration: Migration) -> None:
    propose(migration)
    svc.owner_matches_confirm_exact(migration=migration, user=None)
    unresolved = [o.source_id for o in svc.owners_unresolved(migration=migration)]
    assert unresolved == ["P2", "P3", "P4", "P5", "P7"]     # P6 owns nothing; P1 is confirmed


def test_gate_refuses_and_names_who_then_opens_once_everyone_is_resolved(migration: Migration) -> None:
    propose(migration)
    staff = StaffUserFactory()
    with pytest.raises(TransitionRefused, match=r"P3 \(Işık Şahin\)"):
        migration_transition(migration=migration, to_state=Migration.State.OWNERS_CONFIRMED, user=staff)
    svc.owner_match_confirm(matches=OwnerMatch.objects.filter(migration=migration, destination_user__isnull=False),
                            user=staff)
    svc.migration_set_fallback_owner(migration=migration, email="office@klinik.com", user=staff,
                                     assign_unmatched=True)
    migration_transition(migration=migration, to_state=Migration.State.OWNERS_CONFIRMED, user=staff)
    assert migration.state == Migration.State.OWNERS_CONFIRMED


def test_gate_refuses_before_owners_are_extracted() -> None:
    migration = MigrationFactory(state=Migration.State.MAPPED)
    with pytest.raises(TransitionRefused, match="not been extracted"):
        migration_transition(migration=migration, to_state=Migration.State.OWNERS_CONFIRMED)


def test_resolve_owner_returns_the_confirmed_user_never_the_api_user(migration: Migration) -> None:
    propose(migration)
    svc.owner_matches_confirm_exact(migration=migration, user=None)
    assert svc.resolve_owner(migration=migration, source_owner_id="P1") == "u1"
    with pytest.raises(svc.OwnerUnresolved, match="owner unresolved") as raised:
        svc.resolve_owner(migration=migration, source_owner_id="P2")
    assert raised.value.code == "OWNER_UNRESOLVED"
    with pytest.raises(svc.OwnerUnresolved):
        svc.resolve_owner(migration=migration, source_owner_id=None)


def test_fallback_takes_unowned_and_new_owners_but_not_undecided_known_ones(migration: Migration) -> None:
    propose(migration)
    svc.migration_set_fallback_owner(migration=migration, email="office@klinik.com", user=None)
    resolve = svc.owner_resolver(migration=migration)
    assert resolve(None) == "u0"
    assert resolve("P99") == "u0"
    with pytest.raises(svc.OwnerUnresolved):
        resolve("P2")
    svc.owner_match_assign_fallback(matches=[match_of(migration, "P4")], user=None)
    assert svc.owner_resolver(migration=migration)("P4") == "u0"


def test_changing_the_fallback_moves_owners_already_on_it(migration: Migration) -> None:
    propose(migration)
    svc.migration_set_fallback_owner(migration=migration, email="office@klinik.com", user=None, assign_unmatched=True)
    svc.migration_set_fallback_owner(migration=migration, email="isahin@klinik.com", user=None)
    assert match_of(migration, "P4").destination_user.dest_id == "u3"
    assert match_of(migration, "P4").flags == []


def test_extract_again_keeps_confirmations_and_drops_vanished_owners(
    migration: Migration, connectors: tuple[FakeSource, FakeDestination]
) -> None:
    propose(migration)
    svc.owner_matches_confirm_exact(migration=migration, user=None)
    connectors[0]._owners = [o for o in OWNERS if o.source_id != "P6"]
    svc.owners_extract(migration=migration)
    assert not SourceOwnerRow.objects.filter(migration=migration, source_id="P6").exists()
    assert match_of(migration, "P1").status == "confirmed"
