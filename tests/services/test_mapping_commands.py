from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from migrator.models import FieldMap, ObjectMapping, ReviewStatus
from tests.services.mapping_fakes import migration_for

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict:  # type: ignore[type-arg]
    out = StringIO()
    call_command(*args, stdout=out)
    data: dict = json.loads(out.getvalue())  # type: ignore[type-arg]
    return data


def test_propose_then_confirm_from_the_command_line(catalog: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.services.mapping_fakes import FakeSuggester

    monkeypatch.setattr("migrator.services.mapping.LocalSuggester", lambda: FakeSuggester({}))
    migration = migration_for("dentrix", "zoho-crm")

    proposed = run("propose_mapping", str(migration.pk), "--json")
    assert proposed["object_mappings_created"] == ObjectMapping.objects.filter(migration=migration).count() > 0

    confirmed = run("confirm_mapping", str(migration.pk), "--min-confidence", "0.95", "--json")
    assert confirmed["count"] > 0 and confirmed["remaining"] == []
    assert not FieldMap.objects.filter(object_mapping__migration=migration, status=ReviewStatus.PROPOSED).exists()

    checklist = run("schema_checklist", str(migration.pk), "--json")
    assert any(i["label"] == "Insurance_Carrier" for i in checklist["items"])


def test_commands_refuse_an_unknown_migration(db: None) -> None:
    with pytest.raises(CommandError, match="no migration with id 999999"):
        call_command("propose_mapping", "999999", "--json")
