"""Dental-Exec exports: PascalCase CSV (UTF-8, MM/DD/YYYY, "$1,234.50", 12-hour times), production goals as a
JSON array and the tooth chart as NDJSON (Universal tooth numbers). Known only from the seeds, so the headers
are ours and plausible."""

from __future__ import annotations

from connectors.sources.exports.connector import AttachmentSpec
from connectors.sources.exports.tables import Column as C
from connectors.sources.exports.tables import TableSpec
from connectors.sources.exports.values import Locale
from connectors.sources.hints import QualityHints

LOCALE = Locale(date_order="MDY", tz="America/New_York")

TABLES: tuple[TableSpec, ...] = (
    TableSpec("provider", "Provider", "Providers.csv", (
        C("ProviderID", "id"), C("FirstName"), C("LastName"), C("Title", "code"), C("NPI", "code"),
        C("Email", "email"), C("Active", "boolean"),
    ), id_field="ProviderID"),
    TableSpec("insurance_carrier", "Insurance carrier", "InsuranceCarriers.csv", (
        C("CarrierID", "id"), C("CarrierName"), C("Address"), C("PayerID", "code"), C("Phone", "phone"),
    ), id_field="CarrierID"),
    TableSpec("referral_source", "Referral source", "ReferralSources.csv", (
        C("ReferralSourceID", "id"), C("SourceName"), C("SourceType", "code"),
    ), id_field="ReferralSourceID"),
    TableSpec("patient", "Patient record", "Patients.csv", (
        C("PatientID", "id"), C("FirstName"), C("LastName"), C("MiddleInitial"), C("DOB", "date"),
        C("Gender", "code"), C("Email", "email"), C("CellPhone", "phone"), C("HomePhone", "phone"),
        C("Address1"), C("City"), C("State", "code"), C("Zip", "code"), C("PatientType", "code"),
        C("ResponsiblePartyID", "reference", "patient"), C("PrimaryProviderID", "reference", "provider"),
        C("PrimaryCarrierID", "reference", "insurance_carrier"), C("PrimarySubscriberID", "code"),
        C("PrimaryGroupNumber", "code"), C("PrimaryEffectiveDate", "date"),
        C("SecondaryCarrierID", "reference", "insurance_carrier"), C("SecondarySubscriberID", "code"),
        C("ReferralSourceID", "reference", "referral_source"), C("Status", "code"),
        C("CreatedDate", "datetime"), C("LastModified", "datetime"),
    ), id_field="PatientID", owner_field="PrimaryProviderID", modified_field="LastModified", has_attachments=True),
    TableSpec("treatment_plan", "Treatment plan", "TreatmentPlans.csv", (
        C("PlanID", "id"), C("PatientID", "reference", "patient"), C("ProviderID", "reference", "provider"),
        C("PlanName"), C("ProcedureCodes", "code"), C("ToothSurfaces", "code"), C("EstimatedCost", "currency"),
        C("ActualCost", "currency"), C("Status", "code"), C("CreatedDate", "datetime"),
        C("LastModified", "datetime"),
    ), id_field="PlanID", owner_field="ProviderID", modified_field="LastModified"),
    TableSpec("appointment", "Appointment / recall", "Appointments.csv", (
        C("ApptID", "id"), C("PatientID", "reference", "patient"), C("ProviderID", "reference", "provider"),
        C("ApptType", "code"), C("ScheduledStart", "datetime"), C("DurationMin", "integer"), C("Operatory", "code"),
        C("RecallIntervalMonths", "integer"), C("Status", "code"), C("LastModified", "datetime"),
    ), id_field="ApptID", owner_field="ProviderID", modified_field="LastModified"),
    TableSpec("production_goal", "Production goal", "ProductionGoals.json", (
        C("GoalID", "id"), C("ProviderID", "reference", "provider"), C("Month", "date"),
        C("GoalAmount", "currency"), C("ActualAmount", "currency"),
    ), id_field="GoalID", owner_field="ProviderID"),
    TableSpec("note", "Clinical / progress note", "ClinicalNotes.csv", (
        C("NoteID", "id"), C("PatientID", "reference", "patient"), C("ProviderID", "reference", "provider"),
        C("NoteDate", "datetime"), C("NoteType", "code"), C("NoteText", "text"),
    ), id_field="NoteID", owner_field="ProviderID", modified_field="NoteDate"),
    TableSpec("document", "Document", "Documents.csv", (
        C("DocumentID", "id"), C("PatientID", "reference", "patient"), C("FileName", "file"),
        C("FileSizeBytes", "integer"), C("DocumentType", "code"), C("UploadedDate", "datetime"),
    ), id_field="DocumentID", modified_field="UploadedDate", has_attachments=True),
    TableSpec("ledger", "Ledger", "Ledger.csv", (
        C("LedgerID", "id"), C("PatientID", "reference", "patient"), C("GuarantorID", "reference", "patient"),
        C("TransDate", "date"), C("TransType", "code"), C("CDTCode", "code"), C("Amount", "currency"),
        C("RunningBalance", "currency"),
    ), id_field="LedgerID"),
    TableSpec("tooth_chart", "Tooth chart", "ToothChart.ndjson", (
        C("ChartEntryID", "id"), C("PatientID", "reference", "patient"), C("PlanID", "reference", "treatment_plan"),
        C("ToothNumber", "code"),
        C("Surface", "code"), C("Condition", "code"), C("CDTCode", "code"), C("RecordedDate", "date"),
    ), id_field="ChartEntryID"),
)

ATTACHMENT = AttachmentSpec("document", parent_field="PatientID", file_field="FileName",
                            size_field="FileSizeBytes", folder="Documents", kind_field="DocumentType")

QUALITY = QualityHints(
    patient="patient", first_name="FirstName", last_name="LastName", birth_date="DOB", status_field="PatientType",
    non_patient_values=frozenset({"Responsible Party"}), phone_region="US", notes=(("note", "NoteText"),),
    attachment=("document", "FileSizeBytes"),
)
