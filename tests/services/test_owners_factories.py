import pytest

from tests.factories import DestinationUserFactory, MigrationFactory, OwnerMatchFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def test_factories_build_a_migration_whose_connections_belong_to_its_client() -> None:
    migration = MigrationFactory()
    assert migration.source_connection.client == migration.client
    assert migration.destination_connection.platform.slug == "zoho-crm"
    user = DestinationUserFactory(connection=migration.destination_connection)
    match = OwnerMatchFactory(source_owner__migration=migration, destination_user=user)
    assert match.migration == migration
    assert StaffUserFactory().check_password("pw")
