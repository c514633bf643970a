"""Dentrix G-series exports: one CSV per developer-program view, columns exactly as in
reference/dental-data.md ("Dentrix"); ISO dates with 0001-01-01 for "no date"; images in images/ + images.csv."""

from __future__ import annotations

from connectors.sources.exports.connector import AttachmentSpec
from connectors.sources.exports.tables import Column as C
from connectors.sources.exports.tables import TableSpec
from connectors.sources.exports.values import Locale
from connectors.sources.hints import QualityHints

LOCALE = Locale(date_order="MDY", tz="America/Chicago")

PATIENT_STATUSES = ("Patient", "Non-Patient", "Inactive", "Archived", "Duplicate")

TABLES: tuple[TableSpec, ...] = (
    TableSpec("provider", "Provider", "v_provider.csv", (
        C("provider_id", "id"), C("first_name"), C("last_name"), C("npi", "code"), C("tin", "code"),
        C("issecondaryprovider", "boolean"), C("inactive", "boolean"), C("email", "email"),
    ), id_field="provider_id"),
    TableSpec("patient", "Patient", "v_patient.csv", (
        C("patient_id", "id"), C("first_name"), C("last_name"), C("mi"), C("salutation", "code"),
        C("preferred_name"), C("status", "code"), C("birth_date", "date"), C("email", "email"),
        C("mobile_phone", "phone"), C("home_phone", "phone"), C("work_phone", "phone"), C("address_line1"),
        C("address_line2"), C("city"), C("state", "code"), C("zipcode", "code"),
        C("guar_id", "reference", "patient"), C("gender", "code"),
        C("pri_provider_id", "reference", "provider"), C("sec_provider_id", "reference", "provider"),
        C("first_visit_date", "date"), C("last_visit_date", "date"), C("privacy_flags", "code"),
        C("social_sec_num", "code"), C("employer_id", "code"),
        C("primdentalinsuredid", "reference", "insured"), C("secdentalinsuredid", "reference", "insured"),
    ), id_field="patient_id", owner_field="pri_provider_id", has_attachments=True, custom_columns=True),
    TableSpec("appointment", "Appointment", "v_appt.csv", (
        C("appointment_id", "id"), C("patient_id", "reference", "patient"), C("appointment_date", "date"),
        C("start_hour", "integer"), C("start_minute", "integer"), C("length", "integer"), C("status_id", "code"),
        C("operatory_id", "code"), C("provider_id", "reference", "provider"),
        C("addtnl_provider_id", "reference", "provider"), C("broken", "boolean"),
        C("modified_time_stamp", "datetime"),
    ), id_field="appointment_id", owner_field="provider_id", modified_field="modified_time_stamp"),
    TableSpec("insurance_plan", "Insurance plan", "v_insurance_plans.csv", (
        C("ins_id", "id"), C("ins_co_name"), C("group_name"), C("group_number", "code"), C("payor_id", "code"),
    ), id_field="ins_id"),
    TableSpec("insured", "Insured (subscriber)", "v_insured.csv", (
        C("insured_id", "id"), C("ins_plan_id", "reference", "insurance_plan"),
        C("ins_party_id", "reference", "patient"), C("id_num", "code"), C("ins_type", "code"),
    ), id_field="insured_id"),
    TableSpec("patient_insurance", "Patient insurance", "v_patient_insurance.csv", (
        C("patient_id", "reference", "patient"), C("prim_carrier_id", "reference", "insurance_plan"),
        C("prim_carrier_name"), C("prim_insured_id", "reference", "insured"),
        C("sec_carrier_id", "reference", "insurance_plan"), C("sec_carrier_name"),
        C("sec_insured_id", "reference", "insured"),
    ), id_field="patient_id"),
    TableSpec("guarantor_balance", "Guarantor balance", "v_guarantor_balance.csv", (
        C("guar_id", "reference", "patient"), C("balance_0_30_days", "currency"),
        C("balance_31_60_days", "currency"), C("balance_61_90_days", "currency"),
        C("balance_91_plus_days", "currency"),
    ), id_field="guar_id"),
    # The view has no key of its own; recall_id is the export's row key (patient_id + recall_type is not unique).
    TableSpec("recall", "Recall", "v_patient_recall.csv", (
        C("recall_id", "id"), C("patient_id", "reference", "patient"), C("recall_type", "code"),
        C("due_date", "date"), C("interval", "code"),
    ), id_field="recall_id"),
    TableSpec("note", "Clinical note", "v_notes.csv", (
        C("note_id", "id"), C("patient_id", "reference", "patient"), C("provider_id", "reference", "provider"),
        C("note_date", "datetime"), C("note_type", "code"), C("note_text", "text"),
    ), id_field="note_id", owner_field="provider_id", modified_field="note_date"),
    TableSpec("procedure", "Procedure log", "fullproclog.csv", (
        C("proc_id", "id"), C("patient_id", "reference", "patient"), C("guar_id", "reference", "patient"),
        C("provider_id", "reference", "provider"), C("procdate", "date"), C("trans_type", "code"),
        C("adacode", "code"), C("toothrangestart", "code"), C("toothrangeend", "code"),
        C("surfacestring", "code"), C("amt", "currency"), C("description"),
    ), id_field="proc_id", owner_field="provider_id"),
    TableSpec("prescription", "Prescription", "v_prescriptions.csv", (
        C("rx_id", "id"), C("patient_id", "reference", "patient"), C("provider_id", "reference", "provider"),
        C("rx_date", "date"), C("drug_name"), C("dosage"), C("quantity", "integer"), C("refills", "integer"),
        C("instructions", "text"),
    ), id_field="rx_id", owner_field="provider_id"),
    TableSpec("referral_source", "Referral source", "v_referral_sources.csv", (
        C("referral_id", "id"), C("referral_name"), C("referral_type", "code"),
    ), id_field="referral_id"),
    TableSpec("reminder_workflow", "Reminder workflow", "v_reminder_workflows.csv", (
        C("workflow_id", "id"), C("name"), C("trigger", "code"), C("channel", "code"),
        C("offset_days", "integer"), C("template", "text"), C("active", "boolean"),
    ), id_field="workflow_id"),
    TableSpec("image", "Image", "images.csv", (
        C("image_id", "id"), C("patient_id", "reference", "patient"), C("file_name", "file"),
        C("size", "integer"), C("kind", "code"),
    ), id_field="image_id", has_attachments=True),
)

ATTACHMENT = AttachmentSpec("image", parent_field="patient_id", file_field="file_name", size_field="size",
                            folder="images", kind_field="kind")

QUALITY = QualityHints(
    patient="patient", first_name="first_name", last_name="last_name", birth_date="birth_date",
    status_field="status", non_patient_values=frozenset({"Non-Patient"}), phone_region="US",
    notes=(("note", "note_text"),), attachment=("image", "size"),
)
