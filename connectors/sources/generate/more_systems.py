"""Dental-Exec and Dent-O-Soft layouts (PascalCase CSV + JSON; tab-separated cp1252 with two-digit years)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from connectors.sources.dent_o_soft import schema as dos
from connectors.sources.dental_exec import schema as dex
from connectors.sources.generate.layouts import Layout
from connectors.sources.generate.pools import CARRIERS_US
from connectors.sources.generate.practice import NOW, Person


class DentalExec(Layout):
    practice_domain = "brightsmiles.com"

    @staticmethod
    def id_format(kind: str, n: int) -> str:
        prefix = {"patient": "PT", "provider": "PR", "appointment": "AP", "note": "CN", "document": "DOC"}
        return f"{prefix.get(kind, kind[:2].upper())}{n:06d}"

    def d(self, value: date | None) -> str:
        return value.strftime("%m/%d/%Y") if value else ""

    def dt(self, value: datetime) -> str:
        return value.strftime("%m/%d/%Y %I:%M %p")

    def money(self, value: Decimal) -> str:
        return f"{'-' if value < 0 else ''}${abs(value):,.2f}"

    def static(self) -> None:
        g = self.gen
        for spec in dex.TABLES:
            g.open(spec.object_name)
        titles = ("DDS", "DMD", "RDH", "DDS", "RDH", "Office Manager")
        for index, (pid, first, last, email, active) in enumerate(self.staff()):
            g.emit("provider", {"ProviderID": pid, "FirstName": first, "LastName": last, "Title": titles[index],
                                "NPI": f"1{self.rng.randint(10**8, 10**9 - 1)}", "Email": email,
                                "Active": "True" if active else "False"})
            for month in range(1, 13):
                g.emit("production_goal", {"GoalID": g.next_id("goal"), "ProviderID": pid,
                                           "Month": f"{month:02d}/01/2024", "GoalAmount": 40000 + index * 5000,
                                           "ActualAmount": 30000 + self.rng.randint(0, 20000)})
        self.carriers = []
        for name, payer in CARRIERS_US:
            cid = g.next_id("carrier")
            self.carriers.append(cid)
            g.emit("insurance_carrier", {"CarrierID": cid, "CarrierName": name, "Address": "PO Box 1000",
                                         "PayerID": payer, "Phone": "(800) 932-0783"})
        self.referrals = []
        for name, kind in (("Patient referral", "Referral"), ("Google Ads", "Marketing"), ("Walk-in", "Walk-in")):
            rid = g.next_id("referral")
            self.referrals.append(rid)
            g.emit("referral_source", {"ReferralSourceID": rid, "SourceName": name, "SourceType": kind})

    def patient(self, p: Person, family: list[Person]) -> None:
        rng = self.rng
        insured = rng.random() < 0.7
        self.write_patient(p, {
            "PatientID": p.id, "FirstName": p.first, "LastName": p.last, "MiddleInitial": p.mi, "DOB": self.d(p.dob),
            "Gender": p.gender, "Email": p.email, "CellPhone": p.phones[0], "HomePhone": p.phones[1],
            "Address1": p.street, "City": p.city, "State": p.district, "Zip": p.zip,
            "PatientType": "Responsible Party" if p.status == "nonpatient" else "Patient",
            "ResponsiblePartyID": p.guarantor_id, "PrimaryProviderID": p.provider_id,
            "PrimaryCarrierID": rng.choice(self.carriers) if insured else "",
            "PrimarySubscriberID": f"{rng.randint(10**8, 10**9 - 1)}" if insured else "",
            "PrimaryGroupNumber": f"GRP{rng.randint(1000, 9999)}" if insured else "",
            "PrimaryEffectiveDate": self.d(p.created.date()) if insured else "",
            "SecondaryCarrierID": rng.choice(self.carriers) if insured and rng.random() < 0.15 else "",
            "SecondarySubscriberID": "", "ReferralSourceID": rng.choice(self.referrals),
            "Status": {"inactive": "Inactive", "duplicate": "Archived"}.get(p.status, "Active"),
            "CreatedDate": self.dt(p.created), "LastModified": self.dt(p.modified)})

    def children(self, p: Person, family: list[Person]) -> None:
        g, rng = self.gen, self.rng
        for when in self.visits(p):
            kind = rng.choice(("Hygiene", "Restorative", "Consultation", "Recall"))
            g.emit("appointment", {"ApptID": g.next_id("appointment"), "PatientID": p.id, "ProviderID": self.owner(),
                                   "ApptType": kind, "ScheduledStart": self.dt(when), "DurationMin": "60",
                                   "Operatory": f"Op {rng.randint(1, 5)}",
                                   "RecallIntervalMonths": "6" if kind == "Recall" else "",
                                   "Status": rng.choice(("Scheduled", "Completed", "No Show", "Cancelled")),
                                   "LastModified": self.dt(when)})
        procs = g.procedures(rng.choice((0, 1, 2, 3)))
        if procs:
            est = sum((f for _, _, f, _, _ in procs), Decimal(0))
            plan_id = g.next_id("plan")
            g.emit("treatment_plan", {
                "PlanID": plan_id, "PatientID": p.id, "ProviderID": self.owner(),
                "PlanName": procs[0][1], "ProcedureCodes": ";".join(c for c, *_ in procs),
                "ToothSurfaces": ";".join(f"{t}{s}" for _, _, _, t, s in procs if t),
                "EstimatedCost": self.money(est), "ActualCost": self.money(est * Decimal("0.9")),
                "Status": rng.choice(("Proposed", "Accepted", "Completed")), "CreatedDate": self.dt(p.created),
                "LastModified": self.dt(p.modified)})
            balance = Decimal(0)
            for code, _, fee, tooth, surf in procs:
                balance += fee
                g.emit("ledger", {"LedgerID": g.next_id("ledger"), "PatientID": p.id, "GuarantorID": p.guarantor_id,
                                  "TransDate": self.d(g.past(900).date()), "TransType": "Charge", "CDTCode": code,
                                  "Amount": self.money(fee), "RunningBalance": self.money(balance)})
                if tooth:
                    # The entry charts a procedure of this plan: the export names the plan it belongs to.
                    g.emit("tooth_chart", {"ChartEntryID": g.next_id("chart"), "PatientID": p.id, "PlanID": plan_id,
                                           "ToothNumber": str(tooth), "Surface": surf, "Condition": "Restoration",
                                           "CDTCode": code, "RecordedDate": g.past(900).date().isoformat()})
        for _ in range(rng.choice((0, 0, 1, 2))):
            self.note("note", {"NoteID": g.next_id("note"), "PatientID": p.id, "ProviderID": self.owner(),
                               "NoteDate": self.dt(g.past(1500)), "NoteType": rng.choice(("Clinical", "Progress"))},
                      "NoteText", html=rng.random() < 0.7)
        for _ in range(rng.choice((0, 0, 1))):
            did = g.next_id("document")
            kind, ext = rng.choice((("X-Ray", "jpg"), ("Consent", "pdf"), ("Insurance Card", "jpg")))
            name = f"{kind.replace(' ', '')}_{did}.{ext}"
            size = g.file("Documents", name)
            g.emit("document", {"DocumentID": did, "PatientID": p.id, "FileName": name, "FileSizeBytes": str(size),
                                "DocumentType": kind, "UploadedDate": self.dt(g.past(1500))})


class DentOSoft(Layout):
    practice_domain = "valleydentalgroup.com"

    @staticmethod
    def id_format(kind: str, n: int) -> str:
        prefix = {"patient": "P", "plan": "TP", "provider": "DR", "practice": "LOC"}
        return f"{prefix.get(kind, kind[:3].upper())}-{n:06d}"

    def d(self, value: date | None) -> str:
        return value.strftime("%m/%d/%y") if value else ""

    def dt(self, value: datetime) -> str:
        return value.strftime("%m/%d/%y %H:%M")

    def static(self) -> None:
        g = self.gen
        for spec in dos.TABLES:
            g.open(spec.object_name, encoding=g.opts.encoding or "cp1252", delimiter="\t", newline="\r\n")
        self.practices = []
        for name, city in (("Valley Dental Group - Main St", "Boise"), ("Valley Dental Group - Eagle", "Eagle")):
            lid = g.next_id("practice")
            self.practices.append(lid)
            g.emit("practice", {"practice_id": lid, "practice_name": name, "website": "https://valleydentalgroup.com",
                                "address": "100 Main St", "city": city, "state": "ID", "zip": "83702",
                                "phone": "(208) 342-1100", "provider_count": "6"})
        for pid, first, last, email, active in self.staff():
            g.emit("provider", {"prov_id": pid, "first_nm": first, "last_nm": last,
                                "role": self.rng.choice(("Dentist", "Hygienist")), "email_addr": email,
                                "npi": f"1{self.rng.randint(10**8, 10**9 - 1)}", "active_flag": "Y" if active else "N"})
        for index, (name, trig, ch, off) in enumerate((("Recall 1st notice", "recall_due", "email", -30),
                                                       ("Recall 2nd notice", "recall_due", "sms", -7),
                                                       ("Appt confirm", "appointment", "sms", -2)), 1):
            g.emit("reminder", {"reminder_id": f"R{index}", "name": name, "trigger": trig, "channel": ch,
                                "offset_days": off, "sequence_step": index, "active": True})

    def person(self, p: Person, family: list[Person]) -> None:
        # Two-digit years pivot at 30: keep birth dates where yy reads back to the same century.
        if p.dob is not None and p.dob.year < 1931:
            p.dob = p.dob.replace(year=1931)
        super().person(p, family)

    def patient(self, p: Person, family: list[Person]) -> None:
        self.write_patient(p, {
            "pat_id": p.id, "practice_id": self.practices[p.n % 2], "first_nm": p.first, "last_nm": p.last,
            "birth_dt": self.d(p.dob), "sex": p.gender, "email_addr": p.email, "phone_cell": p.phones[0],
            "phone_home": p.phones[1], "addr_street": p.street, "addr_city": p.city, "addr_state": p.district,
            "addr_zip": p.zip, "is_patient": "N" if p.status == "nonpatient" else "Y",
            "resp_party_id": p.guarantor_id, "prov_id": p.provider_id,
            "pat_status": {"inactive": "I", "duplicate": "M"}.get(p.status, "A"), "last_update": self.dt(p.modified)})

    def children(self, p: Person, family: list[Person]) -> None:
        g, rng = self.gen, self.rng
        upd = self.dt(p.modified)
        for when in self.visits(p):
            kind = rng.choice(("Routine Cleaning", "Consultation", "Filling", "Crown Prep"))
            g.emit("appointment", {"appt_id": g.next_id("appointment"), "pat_id": p.id, "prov_id": self.owner(),
                                   "appt_type": kind,
                                   "appt_dt": self.dt(when), "duration_min": "60",
                                   "appt_status": rng.choice(("completed", "no-show", "cancelled", "scheduled")),
                                   "last_update": self.dt(when)})
        procs = g.procedures(rng.choice((0, 1, 2)))
        if procs:
            g.emit("treatment_plan", {"tp_id": g.next_id("plan"), "pat_id": p.id, "prov_id": self.owner(),
                                      "plan_name": procs[0][1], "est_cost": f"{sum(f for _, _, f, _, _ in procs):.2f}",
                                      "expected_completion_dt": self.d((NOW + timedelta(days=90)).date()),
                                      "tp_status": rng.choice(("Proposed", "Accepted", "In Progress", "Completed")),
                                      "last_update": upd})
        for _ in range(rng.choice((0, 1, 2))):
            when = g.past(900)
            g.emit("call_log", {"call_id": g.next_id("call"), "pat_id": p.id, "prov_id": self.owner(),
                                "call_ts": when.isoformat() + "-07:00", "subject": rng.choice(
                                    ("Post-op check", "Insurance question", "Reschedule request")),
                                "duration_sec": rng.randint(30, 900), "outcome": rng.choice(("reached", "voicemail"))})
        for _ in range(rng.choice((0, 0, 1, 2))):
            self.note("clinical_note", {"note_id": g.next_id("note"), "pat_id": p.id, "prov_id": self.owner(),
                                        "note_dt": self.dt(g.past(1500)), "last_update": upd},
                      "note_body", html=False)
        if rng.random() < 0.6:
            name, _ = rng.choice(CARRIERS_US)
            g.emit("insurance", {"ins_id": g.next_id("insurance"), "pat_id": p.id, "carrier_name": name,
                                 "group_no": f"{rng.randint(10000, 99999)}",
                                 "member_id": f"M{rng.randint(10**7, 10**8)}",
                                 "coverage_type": "primary"})
        for _ in range(rng.choice((0, 0, 1))):
            iid = g.next_id("image")
            modality = rng.choice(("pano", "bitewing", "ceph", "intraoral"))
            name = f"{modality}_{iid}.jpg"
            size = g.file("imaging", name)
            g.emit("imaging_file", {"img_id": iid, "pat_id": p.id, "file_nm": name, "file_size": str(size),
                                    "modality": modality, "taken_dt": self.d(g.past(1500).date())})
