"""factory_boy factories for the core records. Shared by every test package: add yours, keep it importable.

Platforms are looked up by slug (django_get_or_create) so several factories can ask for "drdentes" or "zoho-crm"
without colliding with a loaded catalog."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from migrator.models import (
    Client,
    Connection,
    DestinationUser,
    Migration,
    OwnerMatch,
    Platform,
    PlatformPair,
    SourceOwner,
)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@back-office.test")
    password = factory.django.Password("pw")


class StaffUserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


class SourcePlatformFactory(DjangoModelFactory):
    class Meta:
        model = Platform
        django_get_or_create = ("slug",)

    slug = "drdentes"
    name = "Dr.DENTES"
    kind = Platform.Kind.SOURCE


class DestinationPlatformFactory(DjangoModelFactory):
    class Meta:
        model = Platform
        django_get_or_create = ("slug",)

    slug = "zoho-crm"
    name = "Zoho CRM"
    kind = Platform.Kind.DESTINATION


class PlatformPairFactory(DjangoModelFactory):
    class Meta:
        model = PlatformPair
        django_get_or_create = ("source", "destination")

    source = factory.SubFactory(SourcePlatformFactory)
    destination = factory.SubFactory(DestinationPlatformFactory)
    title = factory.LazyAttribute(lambda p: f"{p.source.name} to {p.destination.name}")


class ClientFactory(DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    contact_email = factory.LazyAttribute(lambda c: f"office@{c.slug}.test")


class ConnectionFactory(DjangoModelFactory):
    class Meta:
        model = Connection

    client = factory.SubFactory(ClientFactory)
    platform = factory.SubFactory(SourcePlatformFactory)
    role = Connection.Role.SOURCE
    name = factory.LazyAttribute(lambda c: f"{c.platform.name} ({c.role})")
    config = factory.LazyFunction(dict)


class SourceConnectionFactory(ConnectionFactory):
    pass


class DestinationConnectionFactory(ConnectionFactory):
    platform = factory.SubFactory(DestinationPlatformFactory)
    role = Connection.Role.DESTINATION
    edition = "enterprise"


class MigrationFactory(DjangoModelFactory):
    class Meta:
        model = Migration

    client = factory.SubFactory(ClientFactory)
    pair = factory.SubFactory(PlatformPairFactory)
    name = factory.Sequence(lambda n: f"Migration {n}")
    source_connection = factory.SubFactory(
        SourceConnectionFactory,
        client=factory.SelfAttribute("..client"),
        platform=factory.SelfAttribute("..pair.source"),
    )
    destination_connection = factory.SubFactory(
        DestinationConnectionFactory,
        client=factory.SelfAttribute("..client"),
        platform=factory.SelfAttribute("..pair.destination"),
    )


class DestinationUserFactory(DjangoModelFactory):
    class Meta:
        model = DestinationUser

    connection = factory.SubFactory(DestinationConnectionFactory)
    dest_id = factory.Sequence(lambda n: f"u{1000 + n}")
    name = factory.Sequence(lambda n: f"CRM User {n}")
    email = factory.Sequence(lambda n: f"crm.user{n}@clinic.test")
    active = True


class SourceOwnerFactory(DjangoModelFactory):
    class Meta:
        model = SourceOwner

    migration = factory.SubFactory(MigrationFactory)
    source_id = factory.Sequence(lambda n: f"P{n}")
    name = factory.Sequence(lambda n: f"Provider {n}")
    email = factory.Sequence(lambda n: f"provider{n}@clinic.test")
    role = "provider"
    record_counts = factory.LazyFunction(lambda: {"patient": 1})


class OwnerMatchFactory(DjangoModelFactory):
    class Meta:
        model = OwnerMatch

    source_owner = factory.SubFactory(SourceOwnerFactory)
    migration = factory.SelfAttribute("source_owner.migration")
    record_count = factory.LazyAttribute(lambda m: m.source_owner.record_count)
