
"""The four systems' layouts: which tables they write and how each canonical value is spelled."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.sources.dent_o_soft import schema as dos
from connectors.sources.dental_exec import schema as dex
from connectors.sources.dentrix import schema as dtx
from connectors.sources.drdentes import schema as drd
from connectors.sources.generate.layouts import (
    TR_INVALID_PHONES,
    TR_PROVIDERS,
    Layout,
    _tr_land,
    _tr_mobile,
    tc_kimlik,
)
from connectors.sources.generate.pools import CARRIERS_TR, CARRIERS_US, CDT, universal_to_fdi
from connectors.sources.generate.practice import NOW, Generator, Options, Person

RECALLS = (("Prophy", "6M", 6), ("Perio Maint", "3M", 3), ("Exam", "12M", 12), ("Bitewings", "12M", 12))


class Dentrix(Layout):
    def d(self, value: date | None) -> str:
        return value.isoformat() if value else "0001-01-01"

    def static(self) -> None:
        g = self.gen
        for spec in dtx.TABLES:
            g.open(spec.object_name)
        for pid, first, last, email, active in self.staff():
            g.emit("provider", {"provider_id": pid, "first_name": first, "last_name": last,
                                "npi": f"1{self.rng.randint(100000000, 999999999)}", "tin": "",
                                "issecondaryprovider": "1" if first in ("Emily", "Linda") else "0",
                                "inactive": "0" if active else "1", "email": email})
        self.plans = []
        for index, (name, payor) in enumerate(CARRIERS_US, start=1):
            self.plans.append((str(index), name))
            g.emit("insurance_plan", {"ins_id": str(index), "ins_co_name": name, "group_name": f"{name} PPO",
                                      "group_number": f"G{self.rng.randint(10000, 99999)}", "payor_id": payor})
        for index, (name, kind) in enumerate((("Google search", "Marketing"), ("Patient referral", "Patient"),
                                              ("Dr. Alvarez (ortho)", "Doctor"), ("Walk-in", "Other"),
                                              ("Facebook ad", "Marketing"), ("Insurance directory", "Other")), 1):
            g.emit("referral_source", {"referral_id": str(index), "referral_name": name, "referral_type": kind})
        for index, (name, trig, ch, off) in enumerate((
                ("Appointment reminder 2 days", "appointment", "sms", -2), ("Recall due", "recall", "email", -14),
                ("Birthday greeting", "birthday", "email", 0), ("Unscheduled treatment", "treatment_plan", "email", 30),
                ("Post-op check", "procedure", "sms", 1)), 1):
            g.emit("reminder_workflow", {"workflow_id": str(index), "name": name, "trigger": trig, "channel": ch,
                                         "offset_days": str(off), "template": f"Hi {{first_name}}, {name.lower()}.",
                                         "active": "1"})

    def patient(self, p: Person, family: list[Person]) -> None:
        status = {"active": "Patient", "new": "Patient", "inactive": "Inactive", "nonpatient": "Non-Patient",
                  "duplicate": "Archived"}[p.status]
        head = family[0]
        insured = head.insured
        row = {"patient_id": p.id, "first_name": p.first, "last_name": p.last, "mi": p.mi,
               "salutation": "Mr." if p.gender == "M" else "Ms.", "preferred_name": "", "status": status,
               "birth_date": self.d(p.dob), "email": p.email, "mobile_phone": p.phones[0],
               "home_phone": p.phones[1], "work_phone": p.phones[2], "address_line1": p.street, "address_line2": "",
               "city": p.city, "state": p.district, "zipcode": p.zip, "guar_id": p.guarantor_id, "gender": p.gender,
               "pri_provider_id": p.provider_id, "sec_provider_id": "",
               "first_visit_date": self.d(None if p.status == "nonpatient" else p.created.date()),
               "last_visit_date": self.d(None if p.status == "nonpatient" else p.modified.date()),
               "privacy_flags": "", "social_sec_num": "" if self.rng.random() < 0.6 else
               f"{self.rng.randint(100, 899)}-{self.rng.randint(10, 99)}-{self.rng.randint(1000, 9999)}",
               "employer_id": "", "primdentalinsuredid": insured[0], "secdentalinsuredid": insured[1],
               # The practice's own fields (reference: "Custom fields vary per practice").
               "Preferred Pharmacy": self.rng.choice(("", "CVS", "Walgreens")),
               "Medical Alert": self.rng.choice(("", "", "Penicillin allergy", "Latex")),
               "VIP": self.rng.choice(("", "Y"))}
        self.write_patient(p, row)

    def children(self, p: Person, family: list[Person]) -> None:
        g, rng = self.gen, self.rng
        if p.head:
            self._family_finance(p)
        for when in self.visits(p):
            g.emit("appointment", {
                "appointment_id": g.next_id("appointment"), "patient_id": p.id, "appointment_date": self.d(when.date()),
                "start_hour": str(rng.randint(8, 17)), "start_minute": rng.choice(("0", "15", "30", "45")),
                "length": rng.choice(("30", "60", "90")), "status_id": rng.choice(("1", "2", "3", "150")),
                "operatory_id": f"OP{rng.randint(1, 4)}", "provider_id": self.owner(), "addtnl_provider_id": "",
                "broken": "1" if rng.random() < 0.05 else "0", "modified_time_stamp": self.dt(when)})
        for code, desc, fee, tooth, surf in g.procedures(rng.choice((0, 1, 2, 3))):
            g.emit("procedure", {"proc_id": g.next_id("procedure"), "patient_id": p.id, "guar_id": p.guarantor_id,
                                 "provider_id": self.owner(), "procdate": self.d(g.past(1500).date()),
                                 "trans_type": "Charge", "adacode": code, "toothrangestart": str(tooth or ""),
                                 "toothrangeend": str(tooth or ""), "surfacestring": surf, "amt": self.money(fee),
                                 "description": desc})
        if rng.random() < 0.6:
            rtype, interval, _ = rng.choice(RECALLS)
            g.emit("recall", {"recall_id": g.next_id("recall"), "patient_id": p.id, "recall_type": rtype,
                              "due_date": self.d((NOW + timedelta(days=rng.randint(-90, 180))).date()),
                              "interval": interval})
        for _ in range(rng.choice((0, 0, 1, 2))):
            self.note("note", {"note_id": g.next_id("note"), "patient_id": p.id, "provider_id": self.owner(),
                               "note_date": self.dt(g.past(1500)), "note_type": rng.choice(("Clinical", "Office"))},
                      "note_text", html=rng.random() < 0.5)
        if rng.random() < 0.15:
            g.emit("prescription", {"rx_id": g.next_id("rx"), "patient_id": p.id, "provider_id": self.owner(),
                                    "rx_date": self.d(g.past(900).date()),
                                    "drug_name": rng.choice(("Amoxicillin", "Ibuprofen", "Chlorhexidine rinse")),
                                    "dosage": rng.choice(("500 mg", "600 mg", "0.12%")), "quantity": "21",
                                    "refills": "0", "instructions": "Take as directed."})
        for _ in range(rng.choice((0, 0, 1, 2))):
            image_id = g.next_id("image")
            kind = rng.choice(("Pano", "BWX", "FMX", "Intraoral"))
            name = f"{kind}_{image_id}.jpg"
            size = g.file("images", name)
            g.emit("image", {"image_id": image_id, "patient_id": p.id, "file_name": name, "size": str(size),
                             "kind": kind})

    def _family_finance(self, head: Person) -> None:
        g, rng = self.gen, self.rng
        plan_id, plan_name = rng.choice(self.plans)
        insured_id = g.next_id("insured")
        g.emit("insured", {"insured_id": insured_id, "ins_plan_id": plan_id, "ins_party_id": head.id,
                           "id_num": f"W{rng.randint(10**8, 10**9 - 1)}", "ins_type": "Dental"})
        secondary = ""
        if rng.random() < 0.2:
            sec_plan, _ = rng.choice(self.plans)
            secondary = g.next_id("insured")
            g.emit("insured", {"insured_id": secondary, "ins_plan_id": sec_plan, "ins_party_id": head.id,
                               "id_num": f"S{rng.randint(10**8, 10**9 - 1)}", "ins_type": "Dental"})
        head.insured = (insured_id, secondary)
        g.emit("patient_insurance", {"patient_id": head.id, "prim_carrier_id": plan_id, "prim_carrier_name": plan_name,
                                     "prim_insured_id": insured_id, "sec_carrier_id": "", "sec_carrier_name": "",
                                     "sec_insured_id": secondary})
        # Balance forward: a negative guarantor balance beside positive family balances (reference).
        negative = rng.random() < 0.1
        g.emit("guarantor_balance", {"guar_id": head.id,
                                     "balance_0_30_days": self.money(Decimal(-rng.randint(100, 2000)) if negative
                                                                     else Decimal(rng.randint(0, 500))),
                                     "balance_31_60_days": self.money(Decimal(rng.randint(0, 200))),
                                     "balance_61_90_days": "0.00", "balance_91_plus_days": "0.00"})


class DrDentes(Layout):
    locale = "tr_TR"
    providers = TR_PROVIDERS
    domains = ["gmail.com", "hotmail.com", "yandex.com.tr", "outlook.com"]
    practice_domain = "gulusklinik.com"

    def d(self, value: date | None) -> str:
        return value.strftime("%d.%m.%Y") if value else "01.01.1900"

    def dt(self, value: datetime) -> str:
        return value.strftime("%d.%m.%Y %H:%M")

    def money(self, value: Decimal) -> str:
        whole, frac = f"{abs(value):.2f}".split(".")
        grouped = f"{int(whole):,}".replace(",", ".")
        return f"{'-' if value < 0 else ''}{grouped},{frac}"

    def phone_formats(self) -> list[Callable[[random.Random], str]]:
        return [_tr_mobile, _tr_land]

    def invalid_phones(self) -> list[str]:
        return TR_INVALID_PHONES

    def static(self) -> None:
        g = self.gen
        encoding = g.opts.encoding or "cp1254"
        for spec in drd.TABLES:
            g.open(spec.object_name, encoding=encoding, delimiter=";", newline="\r\n")
        self.clinics = []
        for name, city, district in (("Gülüş Ağız ve Diş Sağlığı Polikliniği", "İstanbul", "Şişli"),
                                     ("Gülüş Kadıköy Şubesi", "İstanbul", "Kadıköy")):
            cid = g.next_id("clinic")
            self.clinics.append(cid)
            g.emit("clinic", {"Klinik No": cid, "Klinik Adı": name, "Adres": f"{district} Cad. No:{cid}", "İl": city,
                              "İlçe": district, "Telefon": _tr_land(self.rng), "Vergi No": "1234567890"})
        for pid, first, last, email, active in self.staff():
            index = self.provider_ids.index(pid)
            g.emit("user", {"Kullanıcı No": pid, "Adı": first, "Soyadı": last, "T.C. Kimlik No": tc_kimlik(self.rng),
                            "E-posta": email, "Rol": TR_PROVIDERS[index][2], "Klinik No": self.clinics[index % 2],
                            "Aktif": "Evet" if active else "Hayır"})
        for code, desc, fee, _ in CDT:
            g.emit("product", {"Kod": code, "Ad": desc, "Kategori": code[:2], "Fiyat": float(fee * 35),
                               "KDV (%)": 10, "Aktif": "Evet"})
        for index, (name, trig, ch, off) in enumerate((
                ("Randevu hatırlatma", "randevu", "SMS", -1), ("6 aylık kontrol", "hatırlatma", "SMS", -7),
                ("Doğum günü kutlama", "doğum günü", "E-posta", 0)), 1):
            g.emit("workflow", {"Kural No": str(index), "Ad": name, "Tetikleyici": trig, "Kanal": ch,
                                "Gün Farkı": str(off), "Şablon": "Sayın {ad} {soyad}, " + name.lower() + ".",
                                "Aktif": "Evet"})
        for index, (name, kind, url) in enumerate((("e-Nabız", "Sağlık Bakanlığı", "https://enabiz.gov.tr/api"),
                                                   ("Medula", "SGK provizyon", "https://medula.sgk.gov.tr"),
                                                   ("iyzico", "Ödeme", "https://api.iyzipay.com")), 1):
            g.emit("integration", {"Entegrasyon No": str(index), "Ad": name, "Tür": kind, "Uç Nokta": url,
                                   "Durum": "Aktif"})

    def patient(self, p: Person, family: list[Person]) -> None:
        status = {"active": "Aktif", "new": "Yeni Başvuru", "inactive": "Pasif", "nonpatient": "Hesap Sahibi",
                  "duplicate": "Arşiv"}[p.status]
        if not p.national_id:
            p.national_id = tc_kimlik(self.rng)
        self.write_patient(p, {
            "Hasta No": p.id, "Adı": p.first, "Soyadı": p.last, "T.C. Kimlik No": p.national_id,
            "Doğum Tarihi": self.d(p.dob), "Cinsiyet": "Erkek" if p.gender == "M" else "Kadın",
            "Cep Telefonu": p.phones[0], "Ev Telefonu": p.phones[1], "İş Telefonu": p.phones[2], "E-posta": p.email,
            "Adres": p.street, "İl": p.city, "İlçe": p.district, "Durum": status,
            "Hesap Sahibi No": "" if p.head else p.guarantor_id, "Hekim No": p.provider_id,
            "Klinik No": self.clinics[p.n % 2], "Geliş Kaynağı": self.rng.choice(("Tavsiye", "İnternet", "Sigorta")),
            "Kayıt Tarihi": self.dt(p.created), "Güncelleme Tarihi": self.dt(p.modified)})

    def children(self, p: Person, family: list[Person]) -> None:
        g, rng = self.gen, self.rng
        upd = self.dt(p.modified)
        for when in self.visits(p):
            g.emit("appointment", {"Randevu No": g.next_id("appointment"), "Hasta No": p.id, "Hekim No": self.owner(),
                                   "Klinik No": self.clinics[p.n % 2], "Başlangıç": self.dt(when),
                                   "Süre (dk)": rng.choice(("30", "45", "60")),
                                   "Tür": rng.choice(("Muayene", "Tedavi", "Kontrol", "Blok")),
                                   "Durum": rng.choice(("Geldi", "Gelmedi", "İptal", "Planlandı")),
                                   "Güncelleme Tarihi": self.dt(when)})
        total = Decimal(0)
        # One invoice bills the patient's treatments; each treatment row names it (its line on the invoice).
        procedures = list(g.procedures(rng.choice((0, 1, 2, 3))))
        invoice = g.next_id("invoice") if procedures else ""
        for code, desc, fee, tooth, surf in procedures:
            amount = fee * 35
            total += amount
            g.emit("treatment", {"Tedavi No": g.next_id("treatment"), "Hasta No": p.id, "Hekim No": self.owner(),
                                 "Diş No": str(universal_to_fdi(tooth)) if tooth else "", "Yüzey": surf,
                                 "İşlem Kodu": code, "İşlem Adı": desc, "Tutar": self.money(amount),
                                 "Durum": rng.choice(("Planlandı", "Tamamlandı")),
                                 "Tarih": self.d(g.past(1500).date()), "Fatura No": invoice,
                                 "Güncelleme Tarihi": upd})
        if total:
            paid = (total * Decimal(rng.choice(("0", "0.5", "1", "1.1")))).quantize(Decimal("0.01"))
            g.emit("invoice", {"Fatura No": invoice, "Hasta No": p.id, "Klinik No": self.clinics[p.n % 2],
                               "Tarih": self.d(g.past(900).date()), "Tutar": self.money(total),
                               "Ödenen": self.money(paid), "Kalan": self.money(total - paid),
                               "Durum": "Kapalı" if paid >= total else "Açık", "Güncelleme Tarihi": upd})
            if paid:
                g.emit("payment", {"Ödeme No": g.next_id("payment"), "Fatura No": invoice, "Hasta No": p.id,
                                   "Tarih": self.d(g.past(900).date()), "Tutar": self.money(paid),
                                   "Ödeme Şekli": rng.choice(("Nakit", "Kredi Kartı", "Havale")),
                                   "Güncelleme Tarihi": upd})
                if paid > total:  # an overpayment refunded as a negative payment
                    g.emit("payment", {"Ödeme No": g.next_id("payment"), "Fatura No": invoice, "Hasta No": p.id,
                                       "Tarih": self.d(g.past(300).date()), "Tutar": self.money(total - paid),
                                       "Ödeme Şekli": "İade", "Güncelleme Tarihi": upd})
        if rng.random() < 0.4:
            company, code = rng.choice(CARRIERS_TR)
            g.emit("insurance", {"Sigorta No": g.next_id("insurance"), "Hasta No": p.id, "Kurum": company,
                                 "Poliçe No": f"{code}-{rng.randint(100000, 999999)}", "Grup No": "",
                                 "Kapsam (%)": rng.choice(("50", "70,5", "80", "100")), "Tür": "Birincil",
                                 "Güncelleme Tarihi": upd})
        for _ in range(rng.choice((0, 0, 1, 2))):
            self.note("note", {"Not No": g.next_id("note"), "Hasta No": p.id, "Hekim No": self.owner(),
                               "Tarih": self.dt(g.past(1500)), "Başlık": rng.choice(("Muayene", "Tedavi notu")),
                               "Güncelleme Tarihi": upd}, "Not", html=True)
        for _ in range(rng.choice((0, 0, 1, 2))):
            fid = g.next_id("file")
            kind, stem, ext = rng.choice((("Röntgen", "Panoramik röntgen", "jpg"), ("Onam", "Onam formu imzalı", "pdf"),
                                          ("Fotoğraf", "Ağız içi fotoğraf", "jpg")))
            name = f"{stem} {fid}.{ext}"
            size = g.file("dosyalar", name)
            g.emit("file", {"Dosya No": fid, "Hasta No": p.id, "Dosya Adı": name, "Boyut (bayt)": str(size),
                            "Tür": kind, "Yükleme Tarihi": self.dt(g.past(1500))})
        if rng.random() < 0.5:
            g.emit("recall", {"Hatırlatma No": g.next_id("recall"), "Hasta No": p.id, "Hekim No": self.owner(),
                              "Tür": rng.choice(("6 aylık kontrol", "Yıllık muayene")), "Aralık (ay)": "6",
                              "Son Randevu": self.d(g.past(400).date()),
                              "Sonraki Tarih": self.d((NOW + timedelta(days=rng.randint(-60, 180))).date()),
                              "Durum": rng.choice(("Bekliyor", "Tamamlandı")), "Güncelleme Tarihi": upd})
        if rng.random() < 0.08:
            g.emit("custom_record", {"Kayıt No": g.next_id("custom"), "Modül": rng.choice(("Laboratuvar", "Ortodonti")),
                                     "Hasta No": p.id, "Hekim No": self.owner(), "Laboratuvar": "Ege Dental Lab",
                                     "İş Türü": rng.choice(("Zirkonyum kron", "Şeffaf plak", "Gece plağı")),
                                     "Renk": rng.choice(("A1", "A2", "B1")),
                                     "Gönderim Tarihi": self.d(g.past(200).date()),
                                     "Teslim Tarihi": self.d(g.past(100).date()),
                                     "Durum": rng.choice(("Gönderildi", "Teslim alındı")), "Güncelleme Tarihi": upd})


def make(opts: Options) -> Layout:
    from connectors.sources.generate.more_systems import DentalExec, DentOSoft

    systems: dict[str, tuple[type[Layout], Any, str]] = {
        "dentrix": (Dentrix, dtx, "en_US"), "drdentes": (DrDentes, drd, "tr_TR"),
        "dental-exec": (DentalExec, dex, "en_US"), "dent-o-soft": (DentOSoft, dos, "en_US"),
    }
    cls, schema, locale = systems[opts.system]
    gen = Generator(opts, locale=locale, tables=schema.TABLES, quality=schema.QUALITY, id_format=cls.id_format)
    return cls(gen)
