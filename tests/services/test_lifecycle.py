from __future__ import annotations

import pytest

from migrator.models import DiscoveredObject, Migration, MigrationEvent
from migrator.services.lifecycle import TransitionRefused, migration_offers, migration_transition
from tests.factories import MigrationFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def test_an_arrow_that_is_not_in_the_lifecycle_is_refused():
    migration = MigrationFactory()
    with pytest.raises(TransitionRefused, match="not a step of the lifecycle"):
        migration_transition(migration=migration, to_state=Migration.State.LOADING)
    migration.refresh_from_db()
    assert migration.state == Migration.State.DRAFT


def test_an_unknown_state_is_refused():
    with pytest.raises(TransitionRefused, match="not a migration state"):
        migration_transition(migration=MigrationFactory(), to_state="teleported")


def test_a_gate_refuses_with_its_reasons_and_then_opens():
    migration = MigrationFactory()
    with pytest.raises(TransitionRefused, match="discovery has not run"):
        migration_transition(migration=migration, to_state=Migration.State.DISCOVERED)
    DiscoveredObject.objects.create(migration=migration, key="patient", record_count=3)
    user = StaffUserFactory()
    migration_transition(migration=migration, to_state=Migration.State.DISCOVERED, user=user, note="found 1 object")
    migration.refresh_from_db()
    assert migration.state == Migration.State.DISCOVERED
    event = MigrationEvent.objects.get(migration=migration)
    assert (event.from_state, event.to_state, event.by) == ("draft", "discovered", user)


def test_offers_list_only_arrows_with_an_implemented_check():
    migration = MigrationFactory(state=Migration.State.DRAFT)
    offers = migration_offers(migration=migration)
    assert [o.to_state for o in offers] == [Migration.State.DISCOVERED]
    assert not offers[0].allowed


def test_a_closed_migration_goes_nowhere():
    migration = MigrationFactory(state=Migration.State.CLOSED)
    with pytest.raises(TransitionRefused, match="none \\(final state\\)"):
        migration_transition(migration=migration, to_state=Migration.State.DELTA)
