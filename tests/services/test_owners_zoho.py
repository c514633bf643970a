"""Owner matching against the Zoho CRM simulator over real HTTP: the users come from /crm/v8/users."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.destinations.zoho.connector import ZohoConnector
from connectors.simulators.common import start_server
from connectors.simulators.zoho.app import ZohoSimulator
from connectors.simulators.zoho.state import SimConfig
from migrator.models import Connection, Migration, OwnerMatch
from migrator.services import owners as svc
from migrator.services.connections import connector_config
from migrator.services.lifecycle import migration_transition
from tests.factories import MigrationFactory, StaffUserFactory
from tests.services.owner_fakes import FakeSource
from tests.services.test_owners import OWNERS, RECORDS

pytestmark = [pytest.mark.django_db, pytest.mark.e2e]

CRM_PEOPLE = [  # (email, first, last) given to the simulator's users after the admin
    ("ayse.kaya@klinik.com", "Ayse", "Kaya"),
    ("mehmet.yilmaz@klinik.com", "Mehmet", "Yilmaz"),
    ("isahin@klinik.com", "Isik", "Sahin"),
    ("canozturk@gmail.com", "Can", "Ozturk"),
    ("office@klinik.com", "Front", "Office"),
]


@pytest.fixture
def sim() -> Iterator[tuple[ZohoSimulator, str]]:
    sim = ZohoSimulator(SimConfig(edition="enterprise", users=len(CRM_PEOPLE) + 2))
    for user, (email, first, last) in zip(sim.state.users[1:], CRM_PEOPLE, strict=False):
        user.update(email=email, first_name=first, last_name=last, full_name=f"{first} {last}")
    sim.state.users[-1]["status"] = "disabled"     # a user who left the clinic's CRM
    handle = start_server(sim)
    try:
        yield sim, handle.url
    finally:
        handle.stop()


def zoho_from(connection: Connection) -> ZohoConnector:
    config: dict[str, Any] = connector_config(connection)
    return ZohoConnector.from_connection(config, connection.get_secrets())


@pytest.fixture
def migration(sim: tuple[ZohoSimulator, str], monkeypatch: pytest.MonkeyPatch) -> Migration:
    simulator, url = sim
    migration = MigrationFactory(state=Migration.State.MAPPED)
    destination = migration.destination_connection
    destination.config = {"api_base": url, "accounts_url": url, "content_url": url, "read_timeout": 10.0,
                          "backoff_base": 0.01, "backoff_cap": 0.05}
    cfg = simulator.state.config
    destination.set_secrets({"client_id": cfg.client_id, "client_secret": cfg.client_secret,
                             "refresh_token": cfg.refresh_token})
    destination.save()
    monkeypatch.setattr(svc, "source_connector", lambda connection: FakeSource(OWNERS, RECORDS))
    monkeypatch.setattr(svc, "destination_connector", zoho_from)
    return migration


def test_users_of_the_zoho_simulator_are_fetched_and_matched(migration: Migration,
                                                            sim: tuple[ZohoSimulator, str]) -> None:
    result = svc.owners_extract(migration=migration)
    # The Zoho connector lists ActiveUsers only: the disabled user never arrives.
    assert result.destination_users == len(CRM_PEOPLE) + 1
    svc.owner_matches_propose(migration=migration, domain_aliases={"klinik.com.tr": "klinik.com"})
    methods = dict(OwnerMatch.objects.filter(migration=migration)
                   .values_list("source_owner__source_id", "method"))
    assert methods == {"P1": "exact_email", "P2": "normalized_email", "P3": "name_suggestion", "P4": "none",
                       "P5": "normalized_email", "P6": "none", "P7": "none"}
    simulator = sim[0]
    ayse_id = next(u["id"] for u in simulator.state.users if u["email"] == "ayse.kaya@klinik.com")
    staff = StaffUserFactory()
    svc.owner_match_confirm(matches=OwnerMatch.objects.filter(migration=migration, destination_user__isnull=False),
                            user=staff)
    svc.migration_set_fallback_owner(migration=migration, email="office@klinik.com", user=staff,
                                     assign_unmatched=True)
    migration_transition(migration=migration, to_state=Migration.State.OWNERS_CONFIRMED, user=staff)
    assert svc.resolve_owner(migration=migration, source_owner_id="P1") == ayse_id
    office_id = next(u["id"] for u in simulator.state.users if u["email"] == "office@klinik.com")
    assert svc.resolve_owner(migration=migration, source_owner_id="P4") == office_id


def test_a_user_disabled_in_zoho_after_extraction_becomes_inactive_and_is_flagged(
    migration: Migration, sim: tuple[ZohoSimulator, str]
) -> None:
    svc.owners_extract(migration=migration)
    svc.owner_matches_propose(migration=migration)
    next(u for u in sim[0].state.users if u["email"] == "ayse.kaya@klinik.com")["status"] = "disabled"
    svc.owners_extract(migration=migration)
    svc.owner_matches_propose(migration=migration)
    match = OwnerMatch.objects.get(migration=migration, source_owner__source_id="P1")
    assert (match.flags, match.status) == (["inactive_user"], "needs_review")
