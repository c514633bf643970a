"""A curated lexicon: concept -> phrases (already folded: lower case, Turkish letters to ASCII, single spaces).

Source side: Dentrix view columns (reference/dental-data.md), Dr.DENTES Turkish headers and API keys, Dental-Exec
and Dent-O-Soft PascalCase/snake_case headers, plus plain dental and CRM words. Destination side: Zoho and
Freshsales labels and api names. One lexicon serves both sides so a concept links a source field to a target."""

from __future__ import annotations

CONCEPTS: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "firstname", "fname", "first", "given name", "forename", "ad", "adi", "isim",
                   "hasta adi", "patient first name", "name first"),
    "last_name": ("last name", "lastname", "lname", "last", "surname", "family name", "soyad", "soyadi", "soyisim",
                  "hasta soyadi", "patient last name", "name last"),
    "full_name": ("full name", "ad soyad", "adi soyadi", "ad soyadi", "isim soyisim", "patient name",
                  "hasta adi soyadi", "name", "hasta"),
    "middle_name": ("middle name", "middle initial", "mi", "middle", "ikinci ad", "ikinci adi"),
    "salutation": ("salutation", "hitap", "prefix", "name prefix"),
    "preferred_name": ("preferred name", "nickname", "nick name", "goes by", "tercih edilen ad"),
    "email": ("email", "e mail", "email address", "e mail address", "e posta", "eposta", "e posta adresi", "mail",
              "emails", "mail adresi", "email addr"),
    "secondary_email": ("secondary email", "email 2", "alternate email", "ikinci e posta"),
    "mobile": ("mobile", "mobile phone", "mobile number", "cell", "cell phone", "cellphone", "cep", "cep telefonu",
               "cep tel", "gsm", "mobile no", "cep no", "mobil"),
    "home_phone": ("home phone", "phone home", "home tel", "ev telefonu", "ev tel", "home number", "wired",
                   "sabit telefon", "sabit tel", "landline", "home phone number"),
    "work_phone": ("work phone", "work number", "work", "office phone", "business phone", "is telefonu", "is tel",
                   "phone work", "work tel", "daytime phone"),
    "phone": ("phone", "telephone", "telefon", "tel", "phone number", "phone no", "telefon no", "primary phone"),
    "other_phone": ("other phone", "alternate phone", "diger telefon"),
    "fax": ("fax", "faks", "fax number"),
    "birth_date": ("birth date", "birthdate", "date of birth", "dob", "birthday", "dogum tarihi", "d tarihi",
                   "birth dt", "dogum"),
    "street": ("address", "street", "address line 1", "address 1", "addr 1", "addr", "street address", "adres",
               "mailing street", "billing street", "adres satiri 1", "ev adresi", "acik adres"),
    "street2": ("address line 2", "address 2", "addr 2", "street 2", "adres satiri 2", "apt", "suite"),
    "city": ("city", "town", "sehir", "ilce", "mailing city", "billing city"),
    "state": ("state", "province", "il", "region", "mailing state", "billing state", "state code"),
    "zip": ("zip", "zipcode", "zip code", "postal code", "postcode", "post code", "posta kodu", "mailing zip",
            "billing code", "postal"),
    "country": ("country", "ulke", "mailing country", "billing country", "country code"),
    "gender": ("gender", "sex", "cinsiyet", "cinsiyeti"),
    "national_id": ("tc kimlik no", "tc kimlik", "tc no", "tckn", "kimlik no", "national id", "ssn",
                    "social sec num", "social security number", "social security", "tc kimlik numarasi"),
    "owner": ("owner", "provider", "provider id", "pri provider id", "primary provider", "primary provider id",
              "hekim", "hekim id", "sorumlu hekim", "doktor", "doctor", "dentist", "dis hekimi", "prov id",
              "sales owner", "owner id", "provider code", "doctor id", "dentist id", "treating provider"),
    "source_id": ("source system id", "external id", "record id"),
    "status": ("status", "durum", "durumu", "patient status", "hasta durumu", "status id", "lead status",
               "contact status", "contact status id", "appointment status", "randevu durumu", "state of record"),
    "lead_source": ("lead source", "referral", "referral source", "referred by", "referred by source", "ref source",
                    "source", "kaynak", "referans", "nereden duydunuz", "how heard", "lead source id",
                    "marketing source", "referral type", "geldigi yer"),
    "description": ("description", "notes", "note", "comments", "comment", "remarks", "aciklama", "not", "notlar",
                    "memo", "info"),
    "job_title": ("title", "job title", "occupation", "meslek", "job", "position", "unvan"),
    "email_opt_out": ("email opt out", "no email", "do not email", "email consent no", "e posta izni yok"),
    "company": ("company", "employer", "employer name", "firma", "sirket", "isyeri", "work place"),
    "account_name": ("account name", "practice name", "clinic name", "klinik adi", "office name", "location name",
                     "sube adi", "practice", "clinic", "klinik"),
    "website": ("website", "web site", "url", "web", "web adresi", "homepage"),
    "employees": ("employees", "number of employees", "staff count", "personel sayisi"),
    "insurance": ("insurance", "sigorta", "ins co name", "insurance carrier", "carrier", "insurance company",
                  "sigorta sirketi", "primary insurance", "ins carrier"),
    "guarantor": ("guarantor", "guar id", "responsible party", "guarantor id", "responsible party id", "guarantor name",
                  "veli", "sorumlu kisi"),
    # Activities.
    "subject": ("subject", "title", "event title", "konu", "baslik", "appointment title", "reason", "randevu nedeni",
                "task title", "name", "call subject", "recall type"),
    "start": ("start", "start date time", "start datetime", "from", "from date", "start time", "appointment date",
              "appt date", "randevu tarihi", "date", "tarih", "baslangic", "start date", "appt start",
              "appointment start", "randevu baslangic", "call start time", "visit date"),
    "end": ("end", "end date time", "end datetime", "to", "end date", "end time", "bitis", "randevu bitis",
            "appointment end", "appt end", "bitis tarihi"),
    "due_date": ("due date", "due", "son tarih", "due dt", "recall date", "recall due date", "hatirlatma tarihi",
                 "closing date", "expected close", "expected close date", "close date"),
    "priority": ("priority", "oncelik"),
    "location": ("location", "venue", "yer", "konum", "room", "chair", "operatory", "unit"),
    "all_day": ("all day", "is allday", "tum gun"),
    "duration": ("duration", "length", "sure", "call duration", "appt length", "minutes"),
    "patient_ref": ("patient id", "patient", "hasta id", "hasta no", "patient no", "patient number", "patno",
                    "pat id", "contact name", "contact", "related to", "hasta kodu", "patient code", "who id",
                    "targetable id", "parent id", "pat num", "patnum", "patient num"),
    "note_title": ("note title", "not basligi"),
    "note_content": ("note content", "note text", "not metni", "note body", "text"),
    "amount": ("amount", "deal value", "total", "toplam", "tutar", "fee", "ucret", "total fee", "amt",
               "treatment total", "plan total", "estimate", "value"),
    "stage": ("stage", "deal stage", "deal stage id", "asama", "plan status", "tedavi durumu"),
    "pipeline": ("pipeline", "deal pipeline", "deal pipeline id"),
    "deal_name": ("deal name", "plan name", "treatment plan name", "tedavi plani adi", "plan adi"),
    "time_zone": ("time zone", "timezone", "saat dilimi"),
    "call_type": ("call type", "direction", "arama tipi"),
    "call_purpose": ("call purpose", "purpose", "amac"),
    "call_result": ("call result", "outcome", "result", "sonuc"),
    "activity_type": ("activity type", "sales activity type id", "type"),
    "department": ("department", "bolum", "departman"),
    "first_visit": ("first visit date", "first visit", "ilk ziyaret", "ilk muayene tarihi", "ilk gelis"),
    "last_visit": ("last visit date", "last visit", "son ziyaret", "son muayene tarihi", "son gelis"),
    "created": ("created", "date created", "created date", "created at", "kayit tarihi", "date entered",
                "create date", "entry date"),
    "modified": ("modified", "modified time stamp", "last modified", "modified date", "updated at",
                 "guncelleme tarihi", "modified at", "last update"),
    "parent_name": ("baba adi", "anne adi", "father name", "mother name", "veli adi"),
    "balance": ("balance", "bakiye", "balance due", "outstanding", "borc", "current balance"),
}

# Destination fields whose own name would mislead (Zoho's Who_Id is labelled "Contact Name"; Freshsales "name" is an
# account name on accounts and a deal name on deals). Keyed by (module, api_name), then by api_name.
DEST_CONCEPTS: dict[tuple[str, str] | str, str] = {
    "Who_Id": "patient_ref",
    "Contact_Name": "patient_ref",
    "Parent_Id": "patient_ref",
    "targetable_id": "patient_ref",
    "What_Id": "related_ref",
    "Reports_To": "reports_to",
    "Participants": "participants",
    "Source_System_ID": "source_id",
    "external_id": "source_id",
    ("Contacts", "Account_Name"): "account_ref",
    ("Deals", "Account_Name"): "account_ref",
    ("sales_accounts", "name"): "account_name",
    ("deals", "name"): "deal_name",
    ("deals", "sales_account_id"): "account_ref",
    "sales_accounts": "account_ref",
    "parent_sales_account_id": "parent_account",
    "Parent_Account": "parent_account",
    "Event_Title": "subject",
    "Subject": "subject",
    "title": "subject",
    ("Contacts", "Title"): "job_title",
    ("Leads", "Title"): "job_title",
    "Lead_Status": "status",
    "Status": "status",
    "Company": "company",
    "Department": "department",
    "lifecycle_stage_id": "lifecycle_stage",
    "Secondary_Email": "secondary_email",
    "Other_Phone": "other_phone",
    "Home_Phone": "home_phone",
    "Phone": "phone",
    "work_number": "work_phone",
    ("sales_accounts", "phone"): "phone",
    "Due_Date": "due_date",
    "due_date": "due_date",
    "Closing_Date": "due_date",
    "expected_close": "due_date",
    "Call_Start_Time": "start",
    "Note_Content": "note_content",
    "notes": "note_content",
    ("notes", "description"): "note_content",
    "Note_Title": "note_title",
}

# When the destination has no field of a concept, a near concept stands in (Zoho's "Phone" is the business line).
NEAR_CONCEPTS: dict[str, str] = {"work_phone": "phone", "phone": "work_phone"}

# Which phrase means which concept, computed once. A phrase listed under two concepts is ambiguous.
PHRASES: dict[str, tuple[str, ...]] = {}
for _concept, _phrases in CONCEPTS.items():
    for _p in _phrases:
        PHRASES[_p] = (*PHRASES.get(_p, ()), _concept)
COMPACT: dict[str, tuple[str, ...]] = {}
for _p, _cs in PHRASES.items():
    key = _p.replace(" ", "")
    COMPACT[key] = tuple(dict.fromkeys((*COMPACT.get(key, ()), *_cs)))

# Words around a field name that say nothing about its meaning ("PatEmail", "hasta_eposta", "txtCity").
NOISE = frozenset({"patient", "pat", "pt", "hasta", "hastanin", "txt", "str", "fld", "the", "c", "col", "field"})

# Words that end a foreign-key name, and the object words they point at.
ID_WORDS = frozenset({"id", "no", "num", "number", "nr", "kodu", "kod", "code", "key", "numarasi"})
OBJECT_WORDS: dict[str, str] = {
    "patient": "patient", "pat": "patient", "hasta": "patient", "pt": "patient", "client": "patient",
    "provider": "provider", "prov": "provider", "hekim": "provider", "doctor": "provider", "doktor": "provider",
    "dentist": "provider", "dr": "provider",
    "appointment": "appointment", "appt": "appointment", "randevu": "appointment",
    "practice": "practice", "clinic": "practice", "klinik": "practice", "office": "practice", "sube": "practice",
    "location": "practice",
    "treatment": "treatment", "tedavi": "treatment", "procedure": "procedure", "proc": "procedure",
    "islem": "procedure", "plan": "treatment_plan",
    "invoice": "invoice", "fatura": "invoice", "note": "note", "recall": "recall", "task": "task",
}

# Status words for value maps (folded).
VALUE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "active": ("a", "act", "active", "aktif", "patient", "current", "1", "yes", "evet"),
    "inactive": ("i", "inact", "inactive", "pasif", "deactive", "0"),
    "archived": ("ar", "arc", "archived", "arsiv", "arsivlendi", "arsivlenmis"),
    "prospect": ("p", "prospect", "aday", "potansiyel", "new", "yeni", "lead"),
    "non patient": ("np", "non patient", "nonpatient", "hasta degil"),
    "duplicate": ("d", "dup", "duplicate", "mukerrer", "kopya"),
    "deceased": ("dec", "deceased", "vefat", "vefat etti"),
    "scheduled": ("s", "sch", "scheduled", "planned", "planlandi", "booked"),
    "confirmed": ("c", "conf", "confirmed", "onaylandi", "teyitli"),
    "completed": ("comp", "completed", "complete", "done", "tamamlandi", "geldi", "attended"),
    "cancelled": ("x", "cx", "cancel", "cancelled", "canceled", "iptal", "iptal edildi"),
    "no show": ("ns", "no show", "noshow", "broken", "gelmedi", "failed"),
    "male": ("m", "male", "erkek", "e", "bay"),
    "female": ("f", "female", "kadin", "k", "bayan"),
    "other": ("o", "other", "diger", "unknown", "bilinmiyor"),
    "not started": ("not started", "open", "acik", "new"),
    "in progress": ("in progress", "wip", "devam ediyor", "suruyor"),
    "referral": ("ref", "referral", "referred", "tavsiye", "referans"),
    "web": ("web", "website", "internet", "online", "web sitesi"),
    "advertisement": ("ad", "ads", "advert", "advertisement", "reklam", "ilan"),
}
