"""`manage.py match_owners`: extract, propose, fallback and confirm from the command line."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from connectors.base import SourceOwner
from migrator.models import Migration, OwnerMatch
from migrator.services import owners as svc
from tests.factories import MigrationFactory
from tests.services.owner_fakes import FakeDestination, FakeSource
from tests.services.test_owners import OWNERS, RECORDS, USERS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(svc, "source_connector", lambda connection: FakeSource(OWNERS, RECORDS))
    monkeypatch.setattr(svc, "destination_connector", lambda connection: FakeDestination(USERS))


def run(*args: str) -> dict:
    out = io.StringIO()
    call_command("match_owners", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_match_owners_prints_counts_and_the_unresolved_owners() -> None:
    migration = MigrationFactory(state=Migration.State.MAPPED)
    result = run(str(migration.pk), "--domain-alias", "klinik.com.tr=klinik.com")
    assert result["by_method"] == {"exact_email": 1, "name_suggestion": 1, "none": 3, "normalized_email": 2}
    assert [o["source_id"] for o in result["unresolved"]] == ["P1", "P2", "P3", "P4", "P5", "P7"]


def test_match_owners_with_fallback_and_confirm_exact_leaves_only_what_needs_review() -> None:
    migration = MigrationFactory(state=Migration.State.MAPPED)
    result = run(str(migration.pk), "--fallback", "office@klinik.com", "--confirm-exact",
                 "--domain-alias", "klinik.com.tr=klinik.com")
    assert result["confirmed_now"] == 1
    assert result["fallback_owner"] == "office@klinik.com"
    assert [o["source_id"] for o in result["unresolved"]] == ["P2", "P3", "P5"]
    assert OwnerMatch.objects.get(migration=migration, source_owner__source_id="P4").method == "fallback"


def test_match_owners_fails_in_one_line_for_an_unknown_fallback() -> None:
    migration = MigrationFactory()
    with pytest.raises(CommandError, match="no user with that email"):
        run(str(migration.pk), "--fallback", "ghost@klinik.com")


def test_match_owners_fails_for_a_missing_migration_and_a_bad_alias() -> None:
    with pytest.raises(CommandError, match="does not exist"):
        run("999999")
    migration = MigrationFactory()
    with pytest.raises(CommandError, match="ALIAS=DOMAIN"):
        run(str(migration.pk), "--domain-alias", "nonsense")


def test_match_owners_takes_the_clinics_own_dot_and_tag_rules_as_data(monkeypatch: pytest.MonkeyPatch) -> None:
    tagged = [SourceOwner("P1", "Dt. A. K.", "ayse.kaya+dr@klinik.com"),
              SourceOwner("P2", "M. Y.", "mehmetyilmaz@klinik.com")]
    monkeypatch.setattr(svc, "source_connector", lambda connection: FakeSource(tagged, {"patient": ["P1", "P2"]}))
    migration = MigrationFactory()
    assert run(str(migration.pk))["by_method"] == {"none": 2}
    after = run(str(migration.pk), "--ignore-dots", "klinik.com", "--ignore-plus-tags", "klinik.com")
    assert after["by_method"] == {"normalized_email": 2}
