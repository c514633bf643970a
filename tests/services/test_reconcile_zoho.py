"""Reconciliation's reads against the Zoho simulator over real HTTP: presence, owners and empty lookups from one
listing per module, and the crosswalk fallback for what Zoho cannot list."""

from __future__ import annotations

import io

import pytest

from migrator.services.reconcile_scan import OWNER_FIELDS, module_scan
from tests.connectors.zoho import conftest as zoho
from tests.connectors.zoho.conftest import Served

# The Zoho tests' fixtures: a simulator served over real HTTP on a free port.
make_served, served = zoho.make_served, zoho.served

pytestmark = pytest.mark.e2e


def test_a_scan_finds_our_records_their_owners_and_empty_lookups(served: Served) -> None:
    with served.connector() as conn:
        owner = conn.users()[1].id
        contacts = [r.id for r in conn.insert("Contacts", [{"Last_Name": f"P{i}", "Owner": owner} for i in range(3)])]
        [not_ours] = [r.id for r in conn.insert("Contacts", [{"Last_Name": "Already there"}])]
        events = [r.id for r in conn.insert("Events", [
            {"Event_Title": "Visit", "Start_DateTime": "2026-01-05T09:00:00+00:00",
             "End_DateTime": "2026-01-05T09:30:00+00:00", "Who_Id": contacts[0]},
            {"Event_Title": "Visit", "Start_DateTime": "2026-01-06T09:00:00+00:00",
             "End_DateTime": "2026-01-06T09:30:00+00:00"},
        ])]
        assert all(events)
        conn.delete("Contacts", [contacts[2]])

        scan = module_scan(dest=conn, module="Contacts", linked=set(contacts), owner_field=OWNER_FIELDS[conn.slug])
        assert scan.present == set(contacts[:2]) and scan.total == 2 + 1
        assert not_ours not in scan.present
        assert set(scan.owners.values()) == {owner}
        assert scan.counted_from == "destination"

        events_scan = module_scan(dest=conn, module="Events", linked=set(events), lookup_fields=["Who_Id"])
        assert events_scan.empty["Who_Id"] == {events[1]}


def test_attachments_are_counted_from_the_crosswalk_because_zoho_lists_them_per_parent(served: Served) -> None:
    with served.connector() as conn:
        [contact] = conn.insert("Contacts", [{"Last_Name": "Kaya"}])
        attached = conn.attach("Contacts", contact.id, file_name="xray.png", stream=io.BytesIO(b"x" * 100),
                               size=100, content_type="image/png")
        scan = module_scan(dest=conn, module="Attachments", linked={attached.id, "5725767999999999999"})
    assert attached.ok
    # Zoho lists files per parent only: they are counted from the crosswalk, and the report says so.
    assert scan.counted_from == "crosswalk" and len(scan.present) == 2
    assert scan.note.startswith("Attachments are listed per parent record only")
