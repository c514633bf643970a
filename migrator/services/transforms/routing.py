"""Routing rules of object mappings: which destination module one source record goes to.

`route_record` returns a module api name, or SKIP ("") when the record must not be loaded by this mapping (the
pipeline audits it as skipped-with-reason)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from migrator.services.transforms.dates import DateParseError, as_date_parts
from migrator.services.transforms.text import fold

SKIP = ""

# Statuses meaning "not (yet) a patient of the practice" -> Leads. Folded (see text.fold), EN and TR.
LEAD_STATUSES = frozenset({
    "inactive", "prospect", "unconverted", "lead", "new inquiry", "inquiry", "new lead", "potential",
    "pasif", "aday", "potansiyel", "yeni basvuru", "basvuru", "on kayit",
})


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    try:
        return as_date_parts(value, formats=[], day_first=False, pivot=30)[0]
    except DateParseError:
        return None


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError("unreachable")


def _patient_status(record: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """Dr.DENTES/Dental-Exec style: status decides; no status defaults to Contacts (seed 000, "Patient").
    `skip_values` lists statuses this mapping must not load, e.g. Dentrix "Non-Patient" (a guarantor or subscriber
    who is never treated must not become a patient contact, reference/dental-data.md)."""
    contacts, leads = params.get("contact_module", "Contacts"), params.get("lead_module", "Leads")
    status = fold(str(record.get(params.get("status_field", "status")) or ""))
    lead_values = {fold(v) for v in params.get("lead_values", ())} or LEAD_STATUSES
    skip_values = {fold(v) for v in params.get("skip_values", ())}
    if status in skip_values:
        return SKIP
    if status in lead_values:
        return str(leads)
    return str(contacts)


def _no_treatment(record: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """Dentrix: an inactive recall, or no visit and no treatment booked in the last N months (default 18) before
    `as_of` -> Leads; everyone else -> Contacts. `as_of` is required so a re-run routes the same way.
    `skip_values` of `status_field` (e.g. Non-Patient, Archived) are left to other rows."""
    contacts, leads = params.get("contact_module", "Contacts"), params.get("lead_module", "Leads")
    if _skipped(record, params):
        return SKIP
    as_of = params.get("as_of")
    as_of_day = as_of.date() if isinstance(as_of, datetime) else as_of if isinstance(as_of, date) else _as_date(as_of)
    if as_of_day is None:
        raise ValueError("routing rule no_treatment_18_months needs an 'as_of' date")
    months = int(params.get("months", 18))
    since = _months_before(as_of_day, months)
    recall = record.get(params.get("recall_field", "recall_status"))
    if recall is not None and (recall is False or fold(str(recall)) in {"inactive", "false", "0", "no", "n"}):
        return str(leads)
    visit_fields = params.get("visit_fields", ("last_visit_date",))
    booked_fields = params.get("booked_fields", ("next_appointment_date", "treatment_booked_date"))
    visits = [_as_date(record.get(f)) for f in visit_fields]
    booked = [_as_date(record.get(f)) for f in booked_fields]
    recent_visit = any(v is not None and since <= v <= as_of_day for v in visits)
    treatment_booked = any(v is not None and v >= since for v in booked)
    return str(contacts) if recent_visit or treatment_booked else str(leads)


def _skipped(record: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    skip_values = {fold(v) for v in params.get("skip_values", ())}
    return bool(skip_values) and fold(str(record.get(params.get("status_field", "status")) or "")) in skip_values


def _one_of(record: Mapping[str, Any], field: str, values: Any) -> bool:
    return fold(str(record.get(field) or "")) in {fold(str(v)) for v in values}


def _responsible_party(record: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """Dentrix family row: only guarantors who are not patients themselves (status Non-Patient) become the
    secondary responsible-party Contact; every patient is loaded by the patient rows (reference/dental-data.md,
    "Families"). A guarantor who is also a patient is already a Contact, which the Related_Party lookup finds."""
    module = str(params.get("module", "Contacts"))
    values = params.get("values", ("Non-Patient",))
    return module if _one_of(record, str(params.get("status_field", "status")), values) else SKIP


def _blocked_time(record: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """Dr.DENTES appointments: blocked-time / provider-unavailable slots (type in `block_values`, or no patient
    when `patient_field` is given) -> Tasks; real appointments -> Events (seed 000, "Appointment")."""
    events, tasks = params.get("event_module", "Events"), params.get("task_module", "Tasks")
    blocks = params.get("block_values", ("Blok", "Blocked", "Block", "Unavailable"))
    if _one_of(record, str(params.get("type_field", "type")), blocks):
        return str(tasks)
    patient_field = params.get("patient_field")
    if patient_field and not str(record.get(patient_field) or "").strip():
        return str(tasks)
    return str(events)


def _recall_record(record: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """Dental-Exec keeps recalls in the appointment list: recall entries (type in `recall_values`) -> Tasks,
    scheduled appointments -> Events (seed 002, "Appointment / recall")."""
    events, tasks = params.get("event_module", "Events"), params.get("task_module", "Tasks")
    recalls = params.get("recall_values", ("Recall",))
    return str(tasks) if _one_of(record, str(params.get("type_field", "appointment_type")), recalls) else str(events)


RULES: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], str]] = {
    "patient_status": _patient_status,
    "no_treatment_18_months": _no_treatment,
    "responsible_party": _responsible_party,
    "blocked_time": _blocked_time,
    "recall_record": _recall_record,
}


def route_record(rule: str, record: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    try:
        handler = RULES[rule]
    except KeyError:
        raise ValueError(f"unknown routing rule {rule!r}; expected one of: {', '.join(RULES)}") from None
    return handler(record, params)
