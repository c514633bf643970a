"""Dent-O-Soft: reads its export folder (see schema.py)."""

from __future__ import annotations

from connectors.base import SourceOwner, SourceRecord
from connectors.sources.dent_o_soft import schema
from connectors.sources.exports.connector import ExportConnector


class DentOSoftConnector(ExportConnector):
    slug = "dent-o-soft"
    tables = schema.TABLES
    locale = schema.LOCALE
    language = "en"
    owner_object = "provider"
    attachment = schema.ATTACHMENT
    quality = schema.QUALITY

    def owner_from(self, record: SourceRecord) -> SourceOwner:
        d = record.data
        return SourceOwner(
            source_id=record.source_id, name=f"{d.get('first_nm') or ''} {d.get('last_nm') or ''}".strip(),
            email=str(d.get("email_addr") or ""), role=str(d.get("role") or "provider"),
            active=bool(d.get("active_flag")),
        )
