"""Journey 1: an operations user confirms owner matches in the admin and sees the migration's gate open."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from migrator.models import Migration, MigrationEvent, OwnerMatch
from migrator.roles import OPERATIONS
from tests.browser.helpers import admin_login, open_model_list, person_in, run_admin_action, screenshot
from tests.factories import DestinationUserFactory, MigrationFactory, OwnerMatchFactory

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def mapped_migration_with_proposed_owners() -> Migration:
    """A mapped migration whose two providers have exact-email proposals that nobody has confirmed yet."""
    migration: Migration = MigrationFactory(name="Lakeside Dental move", state=Migration.State.MAPPED)
    for source_id, email in (("P1", "dr.north@lakeside.test"), ("P2", "dr.south@lakeside.test")):
        user = DestinationUserFactory(connection=migration.destination_connection, email=email)
        OwnerMatchFactory(source_owner__migration=migration, source_owner__source_id=source_id,
                          source_owner__email=email, source_owner__record_counts={"patient": 5},
                          destination_user=user, method=OwnerMatch.Method.EXACT_EMAIL,
                          status=OwnerMatch.Status.PROPOSED)
    return migration


def test_an_operations_user_confirms_owner_matches_and_the_gate_opens(page: Page) -> None:
    migration = mapped_migration_with_proposed_owners()
    operator = person_in(OPERATIONS, "olga-operations", staff=True)
    admin_login(page, operator)

    open_model_list(page, "migration")
    page.get_by_role("link", name="Lakeside Dental move").click()
    next_steps = page.locator(".field-next_steps")
    expect(next_steps).to_contain_text("Owners confirmed: 2 source owner(s) who own records have no confirmed")

    page.goto(f"/admin/migrator/ownermatch/?migration__id__exact={migration.pk}")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.locator("#action-toggle").check()
    run_admin_action(page, "Confirm selected matches")
    expect(page.locator(".messagelist .success")).to_have_text("2 match(es) confirmed.")
    expect(page.locator("#result_list")).not_to_contain_text("Proposed")

    page.goto(f"/admin/migrator/migration/{migration.pk}/change/")
    expect(next_steps).to_contain_text("Owners confirmed: ready")

    open_model_list(page, "migration")
    page.locator(f"input[name=_selected_action][value='{migration.pk}']").check()
    run_admin_action(page, "Move to the next lifecycle step (when its check passes)")
    expect(page.locator(".messagelist .success")).to_have_text("1 migration(s) moved on.")
    page.get_by_role("link", name="Lakeside Dental move").click()
    expect(page.locator(".field-state .readonly")).to_have_text("Owners confirmed")
    screenshot(page, "operations-owner-gate-open")

    migration.refresh_from_db()
    assert migration.state == Migration.State.OWNERS_CONFIRMED
    event = MigrationEvent.objects.get(migration=migration)
    assert (event.from_state, event.to_state, event.by) == ("mapped", "owners_confirmed", operator)
    assert set(OwnerMatch.objects.filter(migration=migration).values_list("status", "confirmed_by")) == {
        ("confirmed", operator.pk)}
