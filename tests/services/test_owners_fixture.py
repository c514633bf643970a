"""Owners and discovery on a generated Dentrix export: the manifest says what must come out."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connectors.base import DestUser, SourceRecord
from connectors.sources.dentrix.connector import DentrixConnector
from connectors.sources.generate import generate
from migrator.models import DiscoveredObject, OwnerMatch
from migrator.services import discovery
from migrator.services import owners as svc
from migrator.services.owner_matching import EmailRules
from migrator.services.reports_owners import unmatched_report_csv
from tests.factories import MigrationFactory
from tests.services.owner_fakes import FakeDestination

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("dentrix")
    return out, generate("dentrix", patients=80, seed=7, out=out)


@pytest.fixture
def migration(export: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> Any:
    path, manifest = export
    users = [DestUser(f"z{u['source_id']}", u["crm_email"], u["name"]) for u in manifest["crm_users"]]
    users.append(DestUser("z-office", "office@smiledental.com", "Front Office"))
    # The source is the generated export; the destination a fake that lists the manifest's CRM users.
    monkeypatch.setattr(svc, "source_connector", lambda connection: DentrixConnector(path))
    monkeypatch.setattr(discovery, "source_connector", lambda connection: DentrixConnector(path))
    monkeypatch.setattr(svc, "destination_connector", lambda connection: FakeDestination(users))
    return MigrationFactory()


def owned_counts(path: Path) -> dict[str, Counter[str]]:
    source = DentrixConnector(path)
    counts: dict[str, Counter[str]] = {}
    for obj in source.discover():
        if obj.owner_field:
            for item in source.iter_records(obj.name):
                if isinstance(item, SourceRecord) and item.data.get(obj.owner_field) not in (None, ""):
                    counts.setdefault(str(item.data[obj.owner_field]), Counter())[obj.name] += 1
    return counts


def test_every_crm_user_of_the_manifest_is_matched_and_the_rest_are_reported(export, migration) -> None:
    path, manifest = export
    svc.owners_extract(migration=migration)
    rules = EmailRules.with_aliases({"smiledental.co": "smiledental.com"}, ignore_dots=["smiledental.com"],
                                    ignore_plus_tags=["smiledental.com"])
    svc.owner_matches_propose(migration=migration, rules=rules)
    matches = {m.source_owner.source_id: m for m in OwnerMatch.objects.filter(migration=migration)
               .select_related("source_owner", "destination_user")}
    for user in manifest["crm_users"]:
        match = matches[user["source_id"]]
        assert match.destination_user.dest_id == f"z{user['source_id']}"
        expected = "exact_email" if user["crm_email"].lower() == user["source_email"].lower() else "normalized_email"
        assert match.method == expected
    expected_counts = owned_counts(path)
    crm_ids = {u["source_id"] for u in manifest["crm_users"]}
    unmatched = sorted(sid for sid in expected_counts if sid not in crm_ids)
    rows = list(csv.DictReader(io.StringIO(unmatched_report_csv(migration=migration))))
    assert [r["source owner id"] for r in rows] == unmatched
    for row in rows:
        counts = expected_counts[row["source owner id"]]
        assert int(row["total records"]) == sum(counts.values())
        for name, n in counts.items():
            assert int(row[f"{name} records"]) == n


def test_discovery_of_the_export_stores_the_manifests_counts_and_problems(export, migration) -> None:
    _, manifest = export
    discovery.migration_discover(migration=migration)
    stored = dict(DiscoveredObject.objects.filter(migration=migration).values_list("key", "record_count"))
    assert stored == manifest["counts"]
    flags: Counter[str] = Counter()
    for obj in DiscoveredObject.objects.filter(migration=migration):
        flags.update(obj.quality_flags)
    assert {k: v for k, v in flags.items() if not k.startswith("unreadable")} == {
        k: v for k, v in manifest["problems"].items() if v}
