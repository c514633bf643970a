"""Dr.DENTES: its Excel-style export (semicolon CSV in cp1254 or UTF-8 with BOM, the tariff as .xlsx, Turkish
headers, dd.mm.yyyy dates, decimal commas, Europe/Istanbul times) and the English-ish JSON keys of its REST API
(`Column.api`). reference/dental-data.md, "Dr.DENTES"."""

from __future__ import annotations

from connectors.sources.exports.connector import AttachmentSpec
from connectors.sources.exports.tables import Column as C
from connectors.sources.exports.tables import TableSpec
from connectors.sources.exports.values import Locale
from connectors.sources.hints import QualityHints

LOCALE = Locale(date_order="DMY", decimal_comma=True, tz="Europe/Istanbul")

PATIENT_STATUSES = ("Aktif", "Yeni Başvuru", "Pasif", "Arşiv", "Hesap Sahibi")

TABLES: tuple[TableSpec, ...] = (
    TableSpec("clinic", "Klinik", "klinikler.csv", (
        C("Klinik No", "id", api="id"), C("Klinik Adı", api="name"), C("Adres", api="address"),
        C("İl", api="city"), C("İlçe", api="district"), C("Telefon", "phone", api="phone"),
        C("Vergi No", "code", api="tax_number"),
    ), id_field="Klinik No"),
    TableSpec("user", "Kullanıcı", "kullanicilar.csv", (
        C("Kullanıcı No", "id", api="id"), C("Adı", api="name"), C("Soyadı", api="surname"),
        C("T.C. Kimlik No", "code", api="national_id"), C("E-posta", "email", api="email"),
        C("Rol", "code", api="role"), C("Klinik No", "reference", "clinic", api="clinic_id"),
        C("Aktif", "boolean", api="active"),
    ), id_field="Kullanıcı No"),
    TableSpec("patient", "Hasta", "hastalar.csv", (
        C("Hasta No", "id", api="id"), C("Adı", api="name"), C("Soyadı", api="surname"),
        C("T.C. Kimlik No", "code", api="national_id"), C("Doğum Tarihi", "date", api="birth_date"),
        C("Cinsiyet", "code", api="gender"), C("Cep Telefonu", "phone", api="mobile_phone"),
        C("Ev Telefonu", "phone", api="home_phone"), C("İş Telefonu", "phone", api="work_phone"),
        C("E-posta", "email", api="email"), C("Adres", api="address"), C("İl", api="city"),
        C("İlçe", api="district"), C("Durum", "code", api="status"),
        C("Hesap Sahibi No", "reference", "patient", api="account_holder_id"),
        C("Hekim No", "reference", "user", api="dentist_id"), C("Klinik No", "reference", "clinic", api="clinic_id"),
        C("Geliş Kaynağı", "code", api="source"), C("Kayıt Tarihi", "datetime", api="created_at"),
        C("Güncelleme Tarihi", "datetime", api="updated_at"),
    ), id_field="Hasta No", owner_field="Hekim No", modified_field="Güncelleme Tarihi", has_attachments=True),
    TableSpec("appointment", "Randevu", "randevular.csv", (
        C("Randevu No", "id", api="id"), C("Hasta No", "reference", "patient", api="patient_id"),
        C("Hekim No", "reference", "user", api="dentist_id"), C("Klinik No", "reference", "clinic", api="clinic_id"),
        C("Başlangıç", "datetime", api="start_at"), C("Süre (dk)", "integer", api="duration_minutes"),
        C("Tür", "code", api="type"), C("Durum", "code", api="status"),
        C("Güncelleme Tarihi", "datetime", api="updated_at"),
    ), id_field="Randevu No", owner_field="Hekim No", modified_field="Güncelleme Tarihi"),
    TableSpec("treatment", "Tedavi", "tedaviler.csv", (
        C("Tedavi No", "id", api="id"), C("Hasta No", "reference", "patient", api="patient_id"),
        C("Hekim No", "reference", "user", api="dentist_id"), C("Diş No", "code", api="tooth"),
        C("Yüzey", "code", api="surface"), C("İşlem Kodu", "code", api="code"), C("İşlem Adı", api="name"),
        C("Tutar", "currency", api="amount"), C("Durum", "code", api="status"), C("Tarih", "date", api="date"),
        C("Fatura No", "reference", "invoice", api="invoice_id"), C("Güncelleme Tarihi", "datetime", api="updated_at"),
    ), id_field="Tedavi No", owner_field="Hekim No", modified_field="Güncelleme Tarihi"),
    TableSpec("invoice", "Fatura", "faturalar.csv", (
        C("Fatura No", "id", api="id"), C("Hasta No", "reference", "patient", api="patient_id"),
        C("Klinik No", "reference", "clinic", api="clinic_id"), C("Tarih", "date", api="date"),
        C("Tutar", "currency", api="total"), C("Ödenen", "currency", api="paid"),
        C("Kalan", "currency", api="balance"), C("Durum", "code", api="status"),
        C("Güncelleme Tarihi", "datetime", api="updated_at"),
    ), id_field="Fatura No", modified_field="Güncelleme Tarihi"),
    TableSpec("payment", "Ödeme", "odemeler.csv", (
        C("Ödeme No", "id", api="id"), C("Fatura No", "reference", "invoice", api="invoice_id"),
        C("Hasta No", "reference", "patient", api="patient_id"), C("Tarih", "date", api="date"),
        C("Tutar", "currency", api="amount"), C("Ödeme Şekli", "code", api="method"),
        C("Güncelleme Tarihi", "datetime", api="updated_at"),
    ), id_field="Ödeme No", modified_field="Güncelleme Tarihi"),
    TableSpec("insurance", "Sigorta", "sigortalar.csv", (
        C("Sigorta No", "id", api="id"), C("Hasta No", "reference", "patient", api="patient_id"),
        C("Kurum", api="company"), C("Poliçe No", "code", api="policy_number"),
        C("Grup No", "code", api="group_number"), C("Kapsam (%)", "decimal", api="coverage_percent"),
        C("Tür", "code", api="priority"), C("Güncelleme Tarihi", "datetime", api="updated_at"),
    ), id_field="Sigorta No", modified_field="Güncelleme Tarihi"),
    TableSpec("note", "Klinik Not", "notlar.csv", (
        C("Not No", "id", api="id"), C("Hasta No", "reference", "patient", api="patient_id"),
        C("Hekim No", "reference", "user", api="dentist_id"), C("Tarih", "datetime", api="date"),
        C("Başlık", api="title"), C("Not", "text", api="body"),
        C("Güncelleme Tarihi", "datetime", api="updated_at"),
    ), id_field="Not No", owner_field="Hekim No", modified_field="Güncelleme Tarihi"),
    TableSpec("file", "Dosya", "dosyalar.csv", (
        C("Dosya No", "id", api="id"), C("Hasta No", "reference", "patient", api="patient_id"),
        C("Dosya Adı", "file", api="file_name"), C("Boyut (bayt)", "integer", api="size"),
        C("Tür", "code", api="kind"), C("Yükleme Tarihi", "datetime", api="uploaded_at"),
    ), id_field="Dosya No", modified_field="Yükleme Tarihi", has_attachments=True),
    TableSpec("recall", "Hatırlatma", "hatirlaticilar.csv", (
        C("Hatırlatma No", "id", api="id"), C("Hasta No", "reference", "patient", api="patient_id"),
        C("Hekim No", "reference", "user", api="dentist_id"), C("Tür", "code", api="type"),
        C("Aralık (ay)", "integer", api="interval_months"), C("Son Randevu", "date", api="last_visit"),
        C("Sonraki Tarih", "date", api="due_date"), C("Durum", "code", api="status"),
        C("Güncelleme Tarihi", "datetime", api="updated_at"),
    ), id_field="Hatırlatma No", owner_field="Hekim No", modified_field="Güncelleme Tarihi"),
    TableSpec("product", "Tarife", "tarife.xlsx", (
        C("Kod", "id", api="code"), C("Ad", api="name"), C("Kategori", "code", api="category"),
        C("Fiyat", "currency", api="price"), C("KDV (%)", "decimal", api="vat_percent"),
        C("Aktif", "boolean", api="active"),
    ), id_field="Kod"),
    TableSpec("custom_record", "Özel Kayıt", "ozel_kayitlar.csv", (
        C("Kayıt No", "id", api="id"), C("Modül", "code", api="module"),
        C("Hasta No", "reference", "patient", api="patient_id"), C("Hekim No", "reference", "user", api="dentist_id"),
        C("Laboratuvar", api="lab"), C("İş Türü", "code", api="work_type"), C("Renk", "code", api="shade"),
        C("Gönderim Tarihi", "date", api="sent_date"), C("Teslim Tarihi", "date", api="due_date"),
        C("Durum", "code", api="status"), C("Güncelleme Tarihi", "datetime", api="updated_at"),
    ), id_field="Kayıt No", owner_field="Hekim No", modified_field="Güncelleme Tarihi"),
    TableSpec("workflow", "İş Akışı", "is_akislari.csv", (
        C("Kural No", "id", api="id"), C("Ad", api="name"), C("Tetikleyici", "code", api="trigger"),
        C("Kanal", "code", api="channel"), C("Gün Farkı", "integer", api="offset_days"),
        C("Şablon", "text", api="template"), C("Aktif", "boolean", api="active"),
    ), id_field="Kural No"),
    TableSpec("integration", "Entegrasyon", "entegrasyonlar.csv", (
        C("Entegrasyon No", "id", api="id"), C("Ad", api="name"), C("Tür", "code", api="kind"),
        C("Uç Nokta", api="endpoint"), C("Durum", "code", api="status"),
    ), id_field="Entegrasyon No"),
)

ATTACHMENT = AttachmentSpec("file", parent_field="Hasta No", file_field="Dosya Adı", size_field="Boyut (bayt)",
                            folder="dosyalar", kind_field="Tür")

QUALITY = QualityHints(
    patient="patient", first_name="Adı", last_name="Soyadı", birth_date="Doğum Tarihi", status_field="Durum",
    non_patient_values=frozenset({"Hesap Sahibi"}), phone_region="TR", notes=(("note", "Not"),),
    attachment=("file", "Boyut (bayt)"),
)
