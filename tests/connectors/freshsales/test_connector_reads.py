"""Reading records back by id: many ids come from the module's list (100 a request), few from one GET each; a
lookup given as one id (a patient's clinic) is sent as the contact's primary account."""

from __future__ import annotations

import pytest

from connectors.destinations.freshsales.connector import FreshsalesConnector
from connectors.simulators.freshsales.app import FreshsalesSimulator

pytestmark = pytest.mark.e2e


def _requests(sim: FreshsalesSimulator) -> int:
    return sim.state.counters.total


def test_many_accounts_are_read_back_from_the_list_not_one_request_each(
    connector: FreshsalesConnector, sim: FreshsalesSimulator
) -> None:
    written = connector.insert("sales_accounts", [{"name": f"Clinic {n}"} for n in range(150)])
    ids = [*(r.id for r in reversed(written)), "999"]
    before = _requests(sim)
    records = connector.get("sales_accounts", ids)
    assert [r.id for r in records] == ids[:-1]                 # in the order asked, the missing one left out
    assert records[0].data["name"] == "Clinic 149"
    assert _requests(sim) - before == 3                          # filters + two pages of 100


def test_a_few_ids_are_read_one_by_one(connector: FreshsalesConnector, sim: FreshsalesSimulator) -> None:
    written = connector.insert("sales_accounts", [{"name": f"Clinic {n}"} for n in range(150)])
    before = _requests(sim)
    assert [r.id for r in connector.get("sales_accounts", [written[5].id, written[140].id])] == [
        written[5].id, written[140].id]
    assert _requests(sim) - before == 2


def test_a_single_account_id_becomes_the_contacts_primary_account(
    connector: FreshsalesConnector, sim: FreshsalesSimulator
) -> None:
    [clinic] = connector.insert("sales_accounts", [{"name": "Gülüş Kadıköy"}])
    [contact] = connector.insert("contacts", [{"last_name": "Akar", "sales_accounts": clinic.id}])
    assert contact.ok, contact.message
    stored = sim.state.records["contacts"][int(contact.id)]
    assert stored["sales_accounts"] == [{"id": int(clinic.id), "is_primary": True}]
