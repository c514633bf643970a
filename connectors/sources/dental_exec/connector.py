"""Dental-Exec: reads its export folder (see schema.py)."""

from __future__ import annotations

from connectors.base import SourceOwner, SourceRecord
from connectors.sources.dental_exec import schema
from connectors.sources.exports.connector import ExportConnector


class DentalExecConnector(ExportConnector):
    slug = "dental-exec"
    tables = schema.TABLES
    locale = schema.LOCALE
    language = "en"
    owner_object = "provider"
    attachment = schema.ATTACHMENT
    quality = schema.QUALITY

    def owner_from(self, record: SourceRecord) -> SourceOwner:
        d = record.data
        return SourceOwner(
            source_id=record.source_id, name=f"{d.get('FirstName') or ''} {d.get('LastName') or ''}".strip(),
            email=str(d.get("Email") or ""), role=str(d.get("Title") or "provider"), active=bool(d.get("Active")),
        )
