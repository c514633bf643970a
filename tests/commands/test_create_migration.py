from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from migrator.models import Migration

pytestmark = pytest.mark.django_db


def test_create_migration_prints_its_id_and_stores_secrets_encrypted(catalog, tmp_path, capsys):
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"destination": {"client_id": "cid", "client_secret": "cs-123",
                                                   "refresh_token": "rt-456"}}))
    call_command("create_migration", "--client", "Smile Dental", "--pair", "dentrix:zoho-crm",
                 "--edition", "enterprise", "--users", "20", "--source-config", '{"path": "/exports/smile"}',
                 "--secrets-file", str(secrets), "--json")
    out = json.loads(capsys.readouterr().out)
    migration = Migration.objects.get(pk=out["migration_id"])
    assert migration.state == Migration.State.DRAFT
    assert migration.client.name == "Smile Dental"
    assert migration.source_connection.config == {"path": "/exports/smile"}
    assert migration.destination_connection.get_secrets()["client_secret"] == "cs-123"
    assert "cs-123" not in migration.destination_connection.secrets_encrypted


def test_create_migration_reuses_the_client(catalog, capsys):
    for _ in range(2):
        call_command("create_migration", "--client", "Smile Dental", "--pair", "drdentes:freshsales", "--json")
    ids = {m.client_id for m in Migration.objects.all()}
    assert len(ids) == 1


def test_create_migration_names_the_known_pairs_when_the_pair_is_unknown(catalog):
    with pytest.raises(CommandError, match=r"known: .*dentrix:zoho-crm"):
        call_command("create_migration", "--client", "X", "--pair", "dentrix:salesforce")


def test_create_migration_refuses_an_edition_the_destination_does_not_have(catalog):
    with pytest.raises(CommandError, match="no edition 'platinum'"):
        call_command("create_migration", "--client", "X", "--pair", "dentrix:zoho-crm", "--edition", "platinum")
