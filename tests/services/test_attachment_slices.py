"""Files cost one upload call each, so a full run slices them finer than records (ATTACHMENT_SLICE_SIZE): every
worker can take a share. The slices cover every file once, and every file ends in the CRM once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db.models import Sum

from migrator.models import AuditEntry, Run, WorkUnit
from migrator.services import runs

from .conflict_support import loaded_migration
from .rollback_support import served_zoho

pytestmark = pytest.mark.django_db


def test_a_full_run_slices_files_finer_than_records_and_loads_each_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs, "ATTACHMENT_SLICE_SIZE", 4)
    with served_zoho() as (sim, url):
        migration = loaded_migration(sim=sim, url=url, out=tmp_path, keep=["image"])
        full = Run.objects.filter(migration=migration, kind=Run.Kind.FULL).get()
        units = WorkUnit.objects.filter(run=full, source_object="image")
        files = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["counts"]["image"]
        assert units.count() > 1 and all(u.total <= 4 for u in units)
        assert units.aggregate(n=Sum("total"))["n"] == files
        # Sample and full run together attached each file once, and the CRM holds exactly those.
        attached = list(AuditEntry.objects.filter(migration=migration, source_object="image",
                                                  op=AuditEntry.Op.ATTACH).values_list("source_id", flat=True))
        assert len(attached) == len(set(attached)) and len(sim.state.attachments) == len(attached) > 4
