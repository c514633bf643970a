"""The delta window page with the Django test client and real Redis: set the window through the action's form, see
the next delta, cancel it; run a delta on demand. Staff are in the Operations group (its grants come from the
migrations). What is scheduled after commit is run here (`django_capture_on_commit_callbacks`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from migrator.models import Migration, Run
from tests.factories import UserFactory
from tests.services.test_delta_window import _scheduled, loaded, queue  # noqa: F401 — fixtures

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def commits(django_capture_on_commit_callbacks: Any) -> Any:
    return django_capture_on_commit_callbacks


@pytest.fixture
def operations_client(client: Any, catalog: None) -> Any:
    user = UserFactory(username="ops-window", is_staff=True)
    user.groups.add(Group.objects.get(name="Operations"))
    client.force_login(user)
    return client


def test_staff_set_the_window_see_the_next_delta_and_cancel_it(operations_client: Any, loaded: Migration,  # noqa: F811
                                                              queue: Any, commits: Any) -> None:  # noqa: F811
    changelist = reverse("admin:migrator_deltawindow_changelist")
    assert "not set" in operations_client.get(changelist).content.decode()
    start = (timezone.now() + timedelta(hours=1)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=6)

    form = operations_client.post(changelist, {"action": "set_window", "_selected_action": [loaded.pk]})
    assert form.status_code == 200 and 'name="every_minutes"' in form.content.decode()
    with commits(execute=True):
        done = operations_client.post(changelist, {
            "action": "set_window", "_selected_action": [loaded.pk], "apply": "1",
            "start": start.strftime("%Y-%m-%d %H:%M:%S"), "end": end.strftime("%Y-%m-%d %H:%M:%S"),
            "every_minutes": "45"}, follow=True)
    assert "delta window set" in done.content.decode()

    loaded.refresh_from_db()
    assert (loaded.delta_window_start, loaded.delta_window_end, loaded.delta_interval_minutes) == (start, end, 45)
    assert set(_scheduled(queue)) == {loaded.delta_job_id}
    page = operations_client.get(changelist).content.decode()
    assert f"{start:%Y-%m-%d %H:%M} UTC" in page and "every 45 min" in page

    with commits(execute=True):
        operations_client.post(changelist, {"action": "cancel_window", "_selected_action": [loaded.pk]})
    assert _scheduled(queue) == {}
    assert "not set" in operations_client.get(changelist).content.decode()


def test_a_window_that_ends_before_it_starts_is_refused_on_the_form(operations_client: Any,
                                                                    loaded: Migration, queue: Any) -> None:  # noqa: F811
    start = timezone.now() + timedelta(hours=2)
    page = operations_client.post(reverse("admin:migrator_deltawindow_changelist"), {
        "action": "set_window", "_selected_action": [loaded.pk], "apply": "1",
        "start": start.strftime("%Y-%m-%d %H:%M:%S"),
        "end": (start - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"), "every_minutes": "30"})
    assert "end after it starts" in page.content.decode()
    assert _scheduled(queue) == {}


def test_run_a_delta_now(operations_client: Any, loaded: Migration, queue: Any, commits: Any) -> None:  # noqa: F811
    with commits(execute=True):
        operations_client.post(reverse("admin:migrator_deltawindow_changelist"),
                               {"action": "run_delta_now", "_selected_action": [loaded.pk]})
    [run] = Run.objects.filter(migration=loaded, kind=Run.Kind.DELTA)
    assert run.state == Run.State.COMPLETED
