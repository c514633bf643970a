"""Connectors for a client's connections: the one place that turns a Connection row into a live connector."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings

from connectors.base import DestinationConnector, SourceConnector, destination_class, source_class
from migrator.models import Connection, Migration


def connector_config(connection: Connection) -> dict[str, Any]:
    """What the connector's from_connection() receives: the stored settings plus what the Connection row itself
    knows (edition, users, reserve), named as each destination's config model names them."""
    config = dict(connection.config)
    if connection.role != Connection.Role.DESTINATION:
        return config
    shared = {"redis_url": settings.REDIS_URL or None, "budget_key": f"connection:{connection.pk}"}
    slug = connection.platform.slug
    if slug == "zoho-crm":
        known = {"edition": connection.edition or "enterprise", "users": connection.users,
                 "addon_credits": connection.addon_credits, "reserve_credits": connection.reserve}
    elif slug == "freshsales":
        known = {"plan": connection.edition or "growth", "reserve_requests": connection.reserve}
    else:
        known = {}
    return {**shared, **known, **config}


def source_connector(connection: Connection) -> SourceConnector:
    cls: Any = source_class(connection.platform.slug)
    return cast(SourceConnector, cls.from_connection(connector_config(connection), connection.get_secrets()))


def destination_connector(connection: Connection) -> DestinationConnector:
    cls: Any = destination_class(connection.platform.slug)
    return cast(DestinationConnector, cls.from_connection(connector_config(connection), connection.get_secrets()))


def migration_connectors(migration: Migration) -> tuple[SourceConnector, DestinationConnector]:
    """Both ends of a migration. The caller closes them (`with closing(...)` or try/finally)."""
    return source_connector(migration.source_connection), destination_connector(migration.destination_connection)
