"""Dentrix G-series: reads the developer-program view exports (see schema.py)."""

from __future__ import annotations

from connectors.base import SourceOwner, SourceRecord
from connectors.sources.dentrix import schema
from connectors.sources.exports.connector import ExportConnector


class DentrixConnector(ExportConnector):
    slug = "dentrix"
    tables = schema.TABLES
    locale = schema.LOCALE
    language = "en"
    owner_object = "provider"
    attachment = schema.ATTACHMENT
    quality = schema.QUALITY

    def owner_from(self, record: SourceRecord) -> SourceOwner:
        d = record.data
        return SourceOwner(
            source_id=record.source_id, name=f"{d.get('first_name') or ''} {d.get('last_name') or ''}".strip(),
            email=str(d.get("email") or ""), role="hygienist" if d.get("issecondaryprovider") else "provider",
            active=not d.get("inactive"),
        )
