"""The workflow rebuild reference: the source's automations and integrations, written up for the destination.

Workflows do not migrate (seed pages, "Overview"): the practice's admin rebuilds them — in Zoho CRM as Workflow
Rules and Blueprints, in Freshsales as Workflows — and reconnects imaging, payment and lab integrations. This module
reads the exported definitions through the source connector (Dentrix reminder_workflow, Dr.DENTES workflow and
integration, Dent-O-Soft reminder, Dental-Exec equivalents) and lists each automation's trigger, conditions, timing
and action, and each integration to rebuild. Definitions are configuration, not patient data; anything that looks
like a credential is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string

from connectors.base import SourceConnector, SourceIssue
from migrator.models import MappingStrategy, Migration
from migrator.pdf import PdfSection, PdfTable, pdf_document
from migrator.services.connections import source_connector

# Source objects that hold automation or integration definitions, when the pair's catalog rows do not say.
AUTOMATION_OBJECTS = ("reminder_workflow", "workflow", "reminder", "automation", "recall_sequence")
INTEGRATION_OBJECTS = ("integration",)

# Column aliases across the four sources (Dr.DENTES exports name columns in Turkish: connectors/sources/drdentes).
_NAME = ("name", "Ad", "title", "workflow_name", "label")
_TRIGGER = ("trigger", "Tetikleyici", "event", "trigger_event", "when")
_CONDITIONS = ("conditions", "condition", "criteria", "filter", "Koşul", "applies_to")
_TIMING = ("offset_days", "Gün Farkı", "delay", "timing", "schedule", "interval", "days_before", "send_at")
_STEP = ("sequence_step", "step", "order")
_CHANNEL = ("channel", "Kanal", "medium")
_ACTION = ("action", "actions", "Eylem")
_TEMPLATE = ("template", "Şablon", "message", "message_template")
_ACTIVE = ("active", "Aktif", "enabled", "status", "Durum")
_KIND = ("kind", "Tür", "type", "category")
_ENDPOINT = ("endpoint", "Uç Nokta", "url", "base_url")
_VENDOR = ("vendor", "provider", "system")
_SECRET_WORDS = ("key", "secret", "token", "password", "şifre", "parola")

_DESTINATIONS = {
    "zoho-crm": ("Zoho CRM", "Blueprint and Workflow Rules"),
    "freshsales": ("Freshsales", "Workflows"),
}


@dataclass(frozen=True)
class Automation:
    source_object: str
    source_id: str
    name: str
    trigger: str
    conditions: str
    timing: str
    action: str
    active: str
    rebuild_as: str


@dataclass(frozen=True)
class Integration:
    source_id: str
    name: str
    kind: str
    endpoint: str
    status: str
    rebuild_as: str


@dataclass(frozen=True)
class RebuildReference:
    title: str
    destination: str
    destination_tools: str
    automations: Sequence[Automation]
    integrations: Sequence[Integration]
    notes: Sequence[str] = field(default_factory=tuple)


def _pick(data: Mapping[str, Any], keys: Iterable[str]) -> str:
    for key in keys:
        value = data.get(key)
        if value not in (None, ""):
            return _text(value)
    return ""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items() if not _secret(str(k)))
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _secret(key: str) -> bool:
    return any(word in key.lower() for word in _SECRET_WORDS)


def _timing(data: Mapping[str, Any]) -> str:
    raw = _pick(data, _TIMING)
    step = _pick(data, _STEP)
    text = ""
    if raw:
        try:
            days = int(raw)
        except ValueError:
            text = raw
        else:
            text = ("on the day of the trigger" if days == 0 else
                    f"{abs(days)} day(s) {'before' if days < 0 else 'after'} the trigger")
    if step:
        text = f"{text}; step {step} of a sequence" if text else f"step {step} of a sequence"
    return text or "immediately"


def _rebuild_automation(destination: str, trigger: str, timing: str, step: str) -> str:
    if destination == "freshsales":
        return ("Workflow with a time-based action" if timing != "immediately" else "Workflow (on record event)")
    if step:
        return "Blueprint (one transition per sequence step)"
    if timing != "immediately":
        return "Workflow Rule, date/time based, with a scheduled action"
    return f"Workflow Rule on record action{f' ({trigger})' if trigger else ''}"


def _rebuild_integration(destination: str, kind: str) -> str:
    where = "Freshworks Marketplace app or webhook" if destination == "freshsales" else (
        "Zoho Marketplace extension or webhook/Deluge function")
    return f"{where} for {kind}" if kind else where


def automation_from(record_object: str, source_id: str, data: Mapping[str, Any], destination: str) -> Automation:
    trigger = _pick(data, _TRIGGER)
    timing = _timing(data)
    channel, template, action = _pick(data, _CHANNEL), _pick(data, _TEMPLATE), _pick(data, _ACTION)
    parts = [action] if action else []
    if channel:
        parts.append(f"send {channel}")
    if template:
        parts.append(f"template: {template}")
    return Automation(
        source_object=record_object, source_id=source_id, name=_pick(data, _NAME) or source_id, trigger=trigger,
        conditions=_pick(data, _CONDITIONS) or "—", timing=timing, action="; ".join(parts) or "—",
        active=_pick(data, _ACTIVE) or "—",
        rebuild_as=_rebuild_automation(destination, trigger, timing, _pick(data, _STEP)),
    )


def integration_from(source_id: str, data: Mapping[str, Any], destination: str) -> Integration:
    kind = " / ".join(v for v in (_pick(data, _KIND), _pick(data, _VENDOR)) if v)
    return Integration(source_id=source_id, name=_pick(data, _NAME) or source_id, kind=kind,
                       endpoint=_pick(data, _ENDPOINT), status=_pick(data, _ACTIVE) or "—",
                       rebuild_as=_rebuild_integration(destination, kind))


def rebuild_reference_build(
    *, source: SourceConnector, destination: str, objects: Sequence[str] | None = None, title: str = ""
) -> RebuildReference:
    """Read the automation and integration objects `source` exports and describe each for `destination`."""
    available = {o.name for o in source.discover()}
    wanted = [o for o in (objects or (*AUTOMATION_OBJECTS, *INTEGRATION_OBJECTS)) if o in available]
    automations: list[Automation] = []
    integrations: list[Integration] = []
    skipped = 0
    for name in wanted:
        for item in source.iter_records(name):
            if isinstance(item, SourceIssue):
                skipped += 1
                continue
            if name in INTEGRATION_OBJECTS:
                integrations.append(integration_from(item.source_id, item.data, destination))
            else:
                automations.append(automation_from(name, item.source_id, item.data, destination))
    dest_name, tools = _DESTINATIONS.get(destination, (destination, "its automation tools"))
    notes = [f"Rebuild these in {dest_name} with {tools} after go-live; the migration loaded data with workflows "
             "switched off, so none of them has fired on historical records."]
    if not wanted:
        notes.append("The source export holds no automation or integration definitions.")
    if skipped:
        notes.append(f"{skipped} definition row(s) could not be read and are not listed.")
    return RebuildReference(title=title or "Workflow rebuild reference", destination=dest_name,
                            destination_tools=tools, automations=automations, integrations=integrations,
                            notes=notes)


def rebuild_reference_for_migration(*, migration: Migration) -> RebuildReference:
    """The reference for a migration, reading the objects its pair marks as manual rebuilds."""
    rows = migration.pair.object_mappings.filter(strategy=MappingStrategy.REBUILD_REFERENCE)
    objects = list(dict.fromkeys(o for row in rows for o in row.source_objects)) or None
    with closing(source_connector(migration.source_connection)) as source:
        return rebuild_reference_build(
            source=source, destination=migration.pair.destination.slug, objects=objects,
            title=f"Workflow rebuild reference — {migration.client.name}, {migration.name}",
        )


def rebuild_reference_html(reference: RebuildReference) -> str:
    return render_to_string("portal/rebuild_reference.html", {"reference": reference})


def rebuild_reference_pdf(reference: RebuildReference) -> bytes:
    automations = PdfTable(
        ["Automation", "Trigger", "Conditions", "Timing", "Action", "Active", f"Rebuild in {reference.destination}"],
        [[a.name, a.trigger, a.conditions, a.timing, a.action, a.active, a.rebuild_as]
         for a in reference.automations],
        widths=[2, 1.5, 1.3, 1.7, 2.5, 0.8, 2.2],
    )
    integrations = PdfTable(
        ["Integration", "Kind", "Endpoint", "Status", "Rebuild as"],
        [[i.name, i.kind, i.endpoint, i.status, i.rebuild_as] for i in reference.integrations],
        widths=[2, 2, 3, 1, 3],
    )
    return pdf_document(
        title=reference.title, subtitle=f"For {reference.destination}: {reference.destination_tools}",
        sections=[
            PdfSection("About this reference", list(reference.notes)),
            PdfSection(f"Automations ({len(reference.automations)})", table=automations),
            PdfSection(f"Integrations ({len(reference.integrations)})", table=integrations),
        ],
    )
