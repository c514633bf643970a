"""Dent-O-Soft exports: tab-separated .txt in cp1252 with snake_case abbreviations, two-digit years (mm/dd/yy),
call logs as NDJSON with ISO timestamps, reminder sequences as a JSON array. Known only from the seeds, so the
headers are ours and plausible; two-digit years pivot at 30 (yy < 30 -> 20yy)."""

from __future__ import annotations

from connectors.sources.exports.connector import AttachmentSpec
from connectors.sources.exports.tables import Column as C
from connectors.sources.exports.tables import TableSpec
from connectors.sources.exports.values import Locale
from connectors.sources.hints import QualityHints

LOCALE = Locale(date_order="MDY", tz="America/Denver", pivot=30)

TABLES: tuple[TableSpec, ...] = (
    TableSpec("practice", "Practice", "practices.txt", (
        C("practice_id", "id"), C("practice_name"), C("website"), C("address"), C("city"), C("state", "code"),
        C("zip", "code"), C("phone", "phone"), C("provider_count", "integer"),
    ), id_field="practice_id"),
    TableSpec("provider", "Provider", "providers.txt", (
        C("prov_id", "id"), C("first_nm"), C("last_nm"), C("role", "code"), C("email_addr", "email"),
        C("npi", "code"), C("active_flag", "boolean"),
    ), id_field="prov_id"),
    TableSpec("patient", "Patient", "patients.txt", (
        C("pat_id", "id"), C("practice_id", "reference", "practice"), C("first_nm"), C("last_nm"),
        C("birth_dt", "date"), C("sex", "code"), C("email_addr", "email"), C("phone_cell", "phone"),
        C("phone_home", "phone"), C("addr_street"), C("addr_city"), C("addr_state", "code"), C("addr_zip", "code"),
        C("is_patient", "code"), C("resp_party_id", "reference", "patient"), C("prov_id", "reference", "provider"),
        C("pat_status", "code"), C("last_update", "datetime"),
    ), id_field="pat_id", owner_field="prov_id", modified_field="last_update", has_attachments=True),
    TableSpec("treatment_plan", "Treatment plan", "treatment_plans.txt", (
        C("tp_id", "id"), C("pat_id", "reference", "patient"), C("prov_id", "reference", "provider"),
        C("plan_name"), C("est_cost", "currency"), C("expected_completion_dt", "date"), C("tp_status", "code"),
        C("last_update", "datetime"),
    ), id_field="tp_id", owner_field="prov_id", modified_field="last_update"),
    TableSpec("appointment", "Appointment", "appointments.txt", (
        C("appt_id", "id"), C("pat_id", "reference", "patient"), C("prov_id", "reference", "provider"),
        C("appt_type", "code"), C("appt_dt", "datetime"), C("duration_min", "integer"), C("appt_status", "code"),
        C("last_update", "datetime"),
    ), id_field="appt_id", owner_field="prov_id", modified_field="last_update"),
    TableSpec("call_log", "Call log", "call_log.ndjson", (
        C("call_id", "id"), C("pat_id", "reference", "patient"), C("prov_id", "reference", "provider"),
        C("call_ts", "datetime"), C("subject"), C("duration_sec", "integer"), C("outcome", "code"),
    ), id_field="call_id", owner_field="prov_id", modified_field="call_ts"),
    TableSpec("clinical_note", "Clinical note", "clinical_notes.txt", (
        C("note_id", "id"), C("pat_id", "reference", "patient"), C("prov_id", "reference", "provider"),
        C("note_dt", "datetime"), C("note_body", "text"), C("last_update", "datetime"),
    ), id_field="note_id", owner_field="prov_id", modified_field="last_update"),
    TableSpec("insurance", "Insurance", "insurance.txt", (
        C("ins_id", "id"), C("pat_id", "reference", "patient"), C("carrier_name"), C("group_no", "code"),
        C("member_id", "code"), C("coverage_type", "code"),
    ), id_field="ins_id"),
    TableSpec("imaging_file", "Imaging file", "imaging_files.txt", (
        C("img_id", "id"), C("pat_id", "reference", "patient"), C("file_nm", "file"), C("file_size", "integer"),
        C("modality", "code"), C("taken_dt", "date"),
    ), id_field="img_id", has_attachments=True),
    TableSpec("reminder", "Reminder / recall sequence", "reminders.json", (
        C("reminder_id", "id"), C("name"), C("trigger", "code"), C("channel", "code"), C("offset_days", "integer"),
        C("sequence_step", "integer"), C("active", "boolean"),
    ), id_field="reminder_id"),
)

ATTACHMENT = AttachmentSpec("imaging_file", parent_field="pat_id", file_field="file_nm", size_field="file_size",
                            folder="imaging", kind_field="modality")

QUALITY = QualityHints(
    patient="patient", first_name="first_nm", last_name="last_nm", birth_date="birth_dt", status_field="is_patient",
    non_patient_values=frozenset({"N"}), phone_region="US", notes=(("clinical_note", "note_body"),),
    attachment=("imaging_file", "file_size"),
)
