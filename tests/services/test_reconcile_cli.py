"""The ways in to reconciliation: `manage.py reconcile`, the job, and the admin actions (Reconcile, Sign off)."""

from __future__ import annotations

import io
import json

import django_rq
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from migrator import jobs
from migrator.models import Migration, ReconciliationReport
from migrator.services import reconcile as reconcile_service
from tests.factories import StaffUserFactory
from tests.pdf_text import pdf_text
from tests.services.reconcile_fakes import Story
from tests.services.test_reconcile import clean

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(monkeypatch) -> Story:
    """The story, with the migration's connectors built as the fakes."""
    story = Story()
    monkeypatch.setattr(reconcile_service, "migration_connectors", lambda _m: (story.source, story.dest))
    return story


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("reconcile", *args, stdout=out)
    return out.getvalue()


def test_the_command_writes_a_pdf_with_its_tables_as_text(story, tmp_path):
    target = tmp_path / "report.pdf"
    out = run_command(str(story.migration.pk), "--format", "pdf", "--out", str(target), "--sample", "50")
    assert "fail" in out and "MANDATORY_NOT_FOUND" in out
    text = pdf_text(target.read_bytes())
    assert "Objects: source vs destination" in text and "appointment" in text


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_the_command_writes_every_format_to_a_file(story, tmp_path, fmt):
    target = tmp_path / f"report.{fmt}"
    summary = json.loads(run_command(str(story.migration.pk), "--format", fmt, "--out", str(target), "--json"))
    assert summary["verdict"] == "fail" and target.stat().st_size > 0
    assert ReconciliationReport.objects.get(pk=summary["report_id"]).migration == story.migration


def test_the_command_prints_json_without_a_file(story):
    data = json.loads(run_command(str(story.migration.pk)))
    assert data["data"]["summary"]["source_records"] == 21


def test_the_command_renders_an_existing_report_and_signs_it_off(story, tmp_path):
    Migration.objects.filter(pk=story.migration.pk).update(state=Migration.State.LOADED)
    clean(story)
    first = json.loads(run_command(str(story.migration.pk), "--json"))
    staff = StaffUserFactory()
    summary = json.loads(run_command(str(story.migration.pk), "--report", str(first["report_id"]),
                                     "--sign-off", staff.username, "--json"))
    assert summary["report_id"] == first["report_id"] and summary["signed_off"]
    assert summary["state"] == Migration.State.RECONCILED


def test_the_command_refuses_unknown_ids_and_binary_output_to_the_terminal(story):
    with pytest.raises(CommandError, match="no migration"):
        run_command("999999")
    with pytest.raises(CommandError, match="binary"):
        run_command(str(story.migration.pk), "--format", "xlsx")
    with pytest.raises(CommandError, match="failed"):
        run_command(str(story.migration.pk), "--sign-off", StaffUserFactory().username)


def test_the_job_reconciles_by_id_and_records_who_asked(story):
    staff = StaffUserFactory()
    report = ReconciliationReport.objects.get(pk=jobs.reconcile_migration(story.migration.pk, staff.pk))
    assert report.verdict == "fail" and report.run.created_by == staff


def test_the_admin_reconcile_action_enqueues_the_job_after_commit(story, admin_client,
                                                                  django_capture_on_commit_callbacks):
    url = reverse("admin:migrator_migration_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"action": "reconcile", "_selected_action": [story.migration.pk]},
                                     follow=True)
    assert response.status_code == 200
    queue = jobs._queue()
    if queue.is_async:  # with REDIS_URL the job waits in Redis: work it here, in this process and transaction
        from rq import SimpleWorker

        django_rq.get_worker(jobs.QUEUE, worker_class=SimpleWorker).work(burst=True)
        for job_id in queue.finished_job_registry.get_job_ids():  # our own Redis database: leave it clean
            job = queue.fetch_job(job_id)
            if job is not None and job.func_name.endswith("reconcile_migration"):
                job.delete()
    assert story.migration.reconciliation_reports.count() == 1


def test_the_admin_sign_off_action_signs_a_passing_report_and_refuses_a_failing_one(story, admin_client):
    failing = reconcile_service.reconciliation_run(migration=story.migration)
    url = reverse("admin:migrator_reconciliationreport_changelist")
    response = admin_client.post(url, {"action": "sign_off", "_selected_action": [failing.pk]}, follow=True)
    assert "failed" in response.content.decode()
    clean(story)
    reconciliation = reconcile_service.reconciliation_run(migration=story.migration)
    admin_client.post(url, {"action": "sign_off", "_selected_action": [reconciliation.pk]}, follow=True)
    reconciliation.refresh_from_db()
    assert reconciliation.signed_off_at is not None


def test_the_admin_serves_each_report_file(story, admin_client):
    report = reconcile_service.reconciliation_run(migration=story.migration)
    for fmt in ("html", "pdf", "csv", "xlsx", "json"):
        response = admin_client.get(reverse("admin:migrator_reconciliationreport_file", args=[report.pk, fmt]))
        assert response.status_code == 200, fmt
    changelist = admin_client.get(reverse("admin:migrator_reconciliationreport_changelist")).content.decode()
    assert "/file/pdf/" in changelist
