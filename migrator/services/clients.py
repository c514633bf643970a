"""Creating clients, their connections and migrations."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.text import slugify

from migrator.models import Client, Connection, Migration, Platform, PlatformPair


class PairNotFound(ValueError):
    pass


def pair_by_slug(slug: str) -> PlatformPair:
    """`dentrix:zoho-crm` → the catalog pair, or a message naming the pairs there are."""
    source, _, destination = slug.partition(":")
    pair = (PlatformPair.objects.select_related("source", "destination")
            .filter(source__slug=source, destination__slug=destination).first())
    if pair is None:
        known = ", ".join(p.slug for p in PlatformPair.objects.select_related("source", "destination")) or "none"
        raise PairNotFound(f"no platform pair {slug!r} in the catalog (known: {known}; run `manage.py loadcatalog`)")
    return pair


def client_get_or_create(*, name: str, contact_email: str = "") -> tuple[Client, bool]:
    slug = slugify(name)[:50] or "client"
    with transaction.atomic():
        client, created = Client.objects.get_or_create(slug=slug, defaults={"name": name,
                                                                            "contact_email": contact_email})
    return client, created


def connection_create(
    *, client: Client, platform: Platform, role: str, name: str = "", config: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None, edition: str = "", users: int = 1,
) -> Connection:
    connection = Connection(
        client=client, platform=platform, role=role, name=name or f"{platform.name} ({role})",
        config=config or {}, edition=edition, users=users,
    )
    connection.set_secrets(secrets or {})
    connection.save()
    return connection


def migration_create(
    *, client_name: str, pair: PlatformPair, name: str = "",
    source_config: dict[str, Any] | None = None, source_secrets: dict[str, str] | None = None,
    destination_config: dict[str, Any] | None = None, destination_secrets: dict[str, str] | None = None,
    edition: str = "", users: int = 1, sample_size: int = 100, user: AbstractBaseUser | None = None,
) -> Migration:
    """A client (if new), its source and destination connections, and a draft migration for `pair`."""
    if not 1 <= sample_size <= 500:
        raise ValueError("sample size must be between 1 and 500 records")
    if edition and not pair.destination.editions.filter(slug=edition).exists():
        known = ", ".join(pair.destination.editions.values_list("slug", flat=True))
        raise ValueError(f"{pair.destination.name} has no edition {edition!r} (known: {known})")
    with transaction.atomic():
        client, _ = client_get_or_create(name=client_name)
        source = connection_create(client=client, platform=pair.source, role=Connection.Role.SOURCE,
                                   config=source_config, secrets=source_secrets)
        destination = connection_create(client=client, platform=pair.destination,
                                        role=Connection.Role.DESTINATION, config=destination_config,
                                        secrets=destination_secrets, edition=edition, users=users)
        return Migration.objects.create(
            client=client, pair=pair, name=name or f"{pair.source.name} → {pair.destination.name}",
            source_connection=source, destination_connection=destination, sample_size=sample_size,
            created_by=user if user is not None and user.is_authenticated else None,
        )
