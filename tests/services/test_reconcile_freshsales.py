"""Reconciliation's reads against the Freshsales simulator over real HTTP: contacts are listed and read back,
notes cannot be listed (NO_LIST_API) and are counted from the crosswalk, saying so."""

from __future__ import annotations

import pytest

from connectors.destinations.freshsales.connector import FreshsalesConnector
from migrator.services.reconcile_scan import OWNER_FIELDS, module_scan
from tests.connectors.freshsales import conftest as freshsales

pytestmark = pytest.mark.e2e

# The Freshsales tests' fixtures: one simulator server per session, a fresh simulator per test.
sim, _shared_server, server, bundle_url, make_connector, connector = (
    freshsales.sim, freshsales._shared_server, freshsales.server, freshsales.bundle_url, freshsales.make_connector,
    freshsales.connector)


def test_contacts_are_read_back_with_their_owner_and_notes_come_from_the_crosswalk(
    connector: FreshsalesConnector,
) -> None:
    owner = connector.users()[0].id
    contacts = [r.id for r in connector.insert("contacts", [{"last_name": f"P{i}", "owner_id": owner}
                                                            for i in range(2)])]
    [note] = connector.insert("notes", [{"description": "x", "targetable_type": "Contact",
                                          "targetable_id": contacts[0]}])
    scan = module_scan(dest=connector, module="contacts", linked={*contacts, "999999"},
                       owner_field=OWNER_FIELDS[connector.slug])
    assert scan.counted_from == "destination" and scan.present == set(contacts)
    assert set(scan.owners.values()) == {str(owner)}
    notes = module_scan(dest=connector, module="notes", linked={note.id})
    assert notes.counted_from == "crosswalk" and notes.present == {note.id}
    assert notes.note.startswith("freshsales has no API to list notes")


def test_a_payload_in_the_form_freshsales_holds_it_reads_back_equal(connector: FreshsalesConnector) -> None:
    """Choices given as text come back as ids, an email as a list of emails: compared in that form, what was sent
    equals what the CRM holds (the sample diff and reconciliation compare this way)."""
    payload = {"last_name": "Kaya", "emails": "kaya@example.com", "lifecycle_stage_id": "Lead",
               "owner_id": connector.users()[0].id}
    [written] = connector.insert("contacts", [payload])
    assert written.ok, (written.code, written.field)
    [held] = connector.get("contacts", [written.id])
    stored = connector.stored_form("contacts", payload)
    assert {k: held.data[k] for k in payload} == {k: stored[k] for k in payload}
    assert stored["lifecycle_stage_id"] != "Lead" and isinstance(stored["emails"], list)
