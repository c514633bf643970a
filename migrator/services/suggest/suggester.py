"""The local rule-based suggester (the default) and the module-level entry points other parts call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from connectors.base import DestField, DestFieldType, DestModule
from migrator.services.suggest import scoring as sc
from migrator.services.suggest.lexicon import NEAR_CONCEPTS, VALUE_SYNONYMS
from migrator.services.suggest.normalize import ascii_words, compact, phrase, words
from migrator.services.suggest.types import (
    Alternative,
    CreateProposal,
    FieldSuggestion,
    SourceFieldDesc,
    SourceObjectDesc,
    Suggester,
    ValueSuggestion,
)
from migrator.services.transforms.text import fold

TAKEN_CAP = 0.85            # a target already claimed by a stronger source field needs a human
MAX_ALTERNATIVES = 3
NEAR_PENALTY = 0.03         # a near concept (work phone -> Phone) is slightly weaker evidence

MODULE_CONCEPTS: dict[str, tuple[str, ...]] = {
    "patient": ("patient", "patients", "hasta", "hastalar", "hasta karti", "client", "clients", "person", "contact",
                "contacts", "v patient", "patient list", "hasta listesi"),
    "practice": ("practice", "practices", "clinic", "clinics", "klinik", "klinikler", "office", "location",
                 "company", "sube", "subeler", "practice location", "account", "accounts"),
    "appointment": ("appointment", "appointments", "appt", "v appt", "randevu", "randevular", "visit", "schedule",
                    "event", "events"),
    "task": ("task", "tasks", "recall", "recalls", "v patient recall", "hatirlatma", "hatirlatmalar", "reminder",
             "gorev", "gorevler"),
    "note": ("note", "notes", "v notes", "not", "notlar", "clinical note", "clinical notes", "hasta notlari"),
    "treatment_plan": ("treatment plan", "treatment plans", "tedavi plani", "tedavi planlari", "estimate", "case",
                       "deal", "deals"),
    "call": ("call", "calls", "arama", "aramalar", "phone call", "call log"),
}
MODULE_TARGETS: dict[str, dict[str, str]] = {
    "zoho-crm": {"patient": "Contacts", "practice": "Accounts", "appointment": "Events", "task": "Tasks",
                 "note": "Notes", "treatment_plan": "Deals", "call": "Calls"},
    "freshsales": {"patient": "contacts", "practice": "sales_accounts", "appointment": "appointments",
                   "task": "tasks", "note": "notes", "treatment_plan": "deals", "call": "sales_activities"},
}
REF_OBJECTS = {"patient_ref": "patient", "account_ref": "practice", "parent_account": "practice"}

# Abbreviations expanded in the labels of fields to create ("ChartNum" -> "Chart Number").
ABBREVIATIONS = {"num": "Number", "no": "No", "nr": "Number", "dt": "Date", "amt": "Amount", "ins": "Insurance",
                 "id": "ID", "addr": "Address", "tel": "Phone", "prov": "Provider", "pri": "Primary",
                 "sec": "Secondary", "guar": "Guarantor", "appt": "Appointment", "desc": "Description",
                 "qty": "Quantity", "tc": "TC", "ssn": "SSN", "npi": "NPI", "tin": "TIN", "cdt": "CDT",
                 "addtnl": "Additional", "mi": "Middle Initial", "dob": "Date of Birth"}


# ------------------------------------------------------------------------------------------------ fields


def _transform_for(source: SourceFieldDesc, dest_type: str, concept: str, reference: str) -> dict[str, Any]:
    if concept == "full_name":
        return {"kind": "name", "mode": "split", "part": "last"}
    if dest_type == "phone" or source.type == "phone":
        return {"kind": "phone"}
    if dest_type == "email" or source.type == "email":
        return {"kind": "email"}
    if dest_type == "date":
        return {"kind": "date"}
    if dest_type == "datetime":
        return {"kind": "datetime"}
    if dest_type == "owner":
        return {"kind": "owner"}
    if dest_type == "lookup":
        return {"kind": "lookup", "source_object": reference or REF_OBJECTS.get(concept, "patient")}
    if dest_type == "picklist":
        return {"kind": "value_map", "default": None}
    if dest_type == "currency":
        return {"kind": "currency"}
    if dest_type in ("integer", "decimal"):
        return {"kind": "number", **({"integer": True} if dest_type == "integer" else {})}
    if dest_type == "boolean":
        return {"kind": "boolean"}
    if source.type == "json":
        return {"kind": "json"}
    if dest_type == "textarea":
        return {"kind": "long_text"}
    return {"kind": "copy"}


def _create_type(source: SourceFieldDesc) -> DestFieldType:
    by_type: dict[str, DestFieldType] = {
        "date": "date", "datetime": "datetime", "email": "email", "phone": "phone", "integer": "integer",
        "decimal": "decimal", "currency": "currency", "boolean": "boolean", "text": "textarea", "json": "textarea",
    }
    if source.type == "code" and source.codes:
        return "picklist"
    if source.type in by_type:
        return by_type[source.type]
    top = source.shapes[0] if source.shapes else ""
    if top == "email-like":
        return "email"
    if top == "phone-like":
        return "phone"
    if top.startswith("html") or (source.max_length or 0) > 255:
        return "textarea"
    return "text"


def create_proposal(source: SourceFieldDesc, *, destination: str) -> CreateProposal:
    """Label from the source label (kept as written) or the expanded name; the api name the destination's way."""
    if source.label:
        label = " ".join(source.label.split())
    else:
        parts = [w for w in _raw_words(source.name)]
        label = " ".join(ABBREVIATIONS.get(w.lower(), w[:1].upper() + w[1:]) for w in parts)
    name_words = ascii_words(label) or ascii_words(source.name) or ["field"]
    if destination == "freshsales":
        api_name = "cf_" + "_".join(name_words)
    else:
        api_name = "_".join(w.upper() if len(w) <= 3 and w in {"id", "tc", "ssn", "npi", "tin", "cdt"} else
                            w[:1].upper() + w[1:] for w in name_words)
    kind = _create_type(source)
    length: int | None = None
    if kind == "text":
        short = set(words(source.name)) & {"id", "no", "num", "number", "code", "kod", "kodu", "nr"}
        length = 50 if short else 255
    elif kind == "textarea":
        length = 10000 if destination == "freshsales" else 32000
    picklist = tuple(dict.fromkeys(c.strip() for c in source.codes if c.strip())) if kind == "picklist" else ()
    return CreateProposal(label=label, api_name=api_name[:50], type=kind, length=length, picklist=picklist)


def _raw_words(name: str) -> list[str]:
    import re

    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name))
    return [w for w in re.split(r"[\s_\-./]+", spaced) if w]


class RuleBasedSuggester:
    """Lexicon, names, types and shapes; deterministic and offline."""

    def suggest_fields(
        self, source: SourceObjectDesc, destination_fields: list[DestField], *, system: str, destination: str,
        module: str = "",
    ) -> list[FieldSuggestion]:
        usable = [f for f in destination_fields if not f.read_only and f.type != "autonumber"]
        module = module or _guess_module_of(usable, destination)
        concepts = {f.api_name: sc.dest_concept(module, f) for f in usable}
        out = [self._one(field, source.name, usable, concepts, destination) for field in source.fields]
        return _resolve_conflicts(out)

    def _one(
        self, field: SourceFieldDesc, own_object: str, usable: list[DestField], concepts: dict[str, str],
        destination: str,
    ) -> FieldSuggestion:
        hit = sc.source_concepts(field, own_object)
        present = {c for c in hit.concepts if c in concepts.values()}
        if not present and len(hit.concepts) == 1 and NEAR_CONCEPTS.get(hit.concepts[0]) in concepts.values():
            near = NEAR_CONCEPTS[hit.concepts[0]]
            hit = sc.ConceptHit((near,), hit.strength - NEAR_PENALTY, hit.reference)
            present = {near}
        scores: dict[str, float] = {}
        for dest in usable:
            score = 0.0
            names = {compact(dest.api_name), compact(dest.label)} - {""}
            if compact(field.name) in names or (field.label and compact(field.label) in names):
                score = sc.EXACT_NAME
            concept = concepts[dest.api_name]
            if concept and concept in hit.concepts:
                strength = hit.strength
                if len(hit.concepts) > 1:
                    strength = sc.LEXICON_AMBIGUOUS if len(present) == 1 else sc.LEXICON_CONTAINED - 0.1
                if sum(1 for c in concepts.values() if c == concept) > 1:
                    strength = min(strength, sc.LEXICON_AMBIGUOUS)
                score = max(score, strength)
            ov = sc.overlap(field, dest)
            if ov > 0:
                score = max(score, min(sc.OVERLAP_CAP, sc.OVERLAP_BASE + sc.OVERLAP_SPAN * ov))
            if score and not sc.type_ok(field, dest):
                score *= sc.TYPE_CONFLICT
            if score and not sc.shape_ok(field, dest):
                score *= sc.SHAPE_CONFLICT
            if score:
                scores[dest.api_name] = round(score, 3)
        if "full_name" in hit.concepts and not present:
            last = next((d for d in usable if concepts[d.api_name] == "last_name"), None)
            if last is not None:
                scores[last.api_name] = max(scores.get(last.api_name, 0.0), sc.FULL_NAME_SPLIT)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        if not ranked or ranked[0][1] < sc.CREATE_BELOW:
            proposal = create_proposal(field, destination=destination)
            return FieldSuggestion(source=field.name, target=None, confidence=0.0, create=proposal,
                                   transform=_transform_for(field, proposal.type, "", ""),
                                   alternatives=tuple(Alternative(t, c) for t, c in ranked[:MAX_ALTERNATIVES]),
                                   value_map=_values_for_create(field, proposal))
        target, confidence = ranked[0]
        dest = next(d for d in usable if d.api_name == target)
        concept = concepts[target] if concepts[target] in hit.concepts else ""
        if "full_name" in hit.concepts and concepts[target] == "last_name":
            concept = "full_name"
        transform = _transform_for(field, dest.type, concept, hit.reference)
        value_map: tuple[ValueSuggestion, ...] = ()
        if dest.type == "picklist" and field.codes:
            value_map = tuple(suggest_values(field.codes, dest.picklist))
            if dest.picklist:
                transform = {"kind": "value_map", "default": "Other" if "Other" in dest.picklist else None}
        return FieldSuggestion(
            source=field.name, target=target, confidence=confidence, transform=transform,
            alternatives=tuple(Alternative(t, c) for t, c in ranked[1:1 + MAX_ALTERNATIVES]), value_map=value_map,
        )

    def suggest_module(
        self, source: SourceObjectDesc, modules: Sequence[DestModule], *, system: str = "", destination: str = "",
    ) -> tuple[str, float]:
        return _suggest_module(source, modules, destination=destination)


def _values_for_create(field: SourceFieldDesc, proposal: CreateProposal) -> tuple[ValueSuggestion, ...]:
    if not proposal.picklist:
        return ()
    return tuple(ValueSuggestion(source=c, target=c, confidence=1.0) for c in proposal.picklist)


def _guess_module_of(fields: list[DestField], destination: str) -> str:
    names = {f.api_name for f in fields}
    for module, marker in (("Events", "Start_DateTime"), ("Tasks", "Due_Date"), ("Calls", "Call_Type"),
                           ("Notes", "Note_Content"), ("Deals", "Deal_Name"), ("Leads", "Lead_Status"),
                           ("Contacts", "Date_of_Birth"), ("Accounts", "Billing_Street"),
                           ("deals", "deal_stage_id"), ("sales_accounts", "number_of_employees"),
                           ("notes", "targetable_id")):
        if marker in names:
            return module
    return ""


def _resolve_conflicts(suggestions: list[FieldSuggestion]) -> list[FieldSuggestion]:
    """Two source fields proposing one target: the stronger keeps its confidence, the others drop below 0.9."""
    best: dict[str, float] = {}
    for s in suggestions:
        if s.target is not None:
            best[s.target] = max(best.get(s.target, 0.0), s.confidence)
    seen: set[str] = set()
    out = []
    for s in suggestions:
        if s.target is not None and (s.confidence < best[s.target] or s.target in seen):
            s = replace(s, confidence=min(s.confidence, TAKEN_CAP))
        if s.target is not None and s.confidence == best[s.target]:
            seen.add(s.target)
        out.append(s)
    return out


# ------------------------------------------------------------------------------------------------ modules


def _suggest_module(source: SourceObjectDesc, modules: Sequence[DestModule], *, destination: str) -> tuple[str, float]:
    if not modules:
        raise ValueError("no destination modules to choose from")
    available = {m.api_name: m for m in modules}
    targets = MODULE_TARGETS.get(destination, {})
    for text, strength in ((source.name, 0.95), (source.label, 0.93)):
        p = phrase(text)
        for concept, phrases in MODULE_CONCEPTS.items():
            if p in phrases or p.rstrip("s") in phrases:
                module = targets.get(concept)
                if module in available:
                    return module, strength
    # No lexicon hit: the module sharing the most words with the object's name and label.
    mine = set(words(source.name)) | set(words(source.label))
    scored = []
    for m in modules:
        theirs = set(words(m.api_name)) | set(words(m.label))
        scored.append((len(mine & theirs) / max(1, len(mine | theirs)), m.api_name))
    scored.sort(key=lambda t: (-t[0], t[1]))
    ratio, name = scored[0]
    return name, round(min(0.7, 0.3 + 0.4 * ratio), 3) if ratio else 0.0


# ------------------------------------------------------------------------------------------------ values


def _value_concepts(text: str) -> set[str]:
    key = fold(text).strip()
    return {concept for concept, forms in VALUE_SYNONYMS.items() if key in forms or key == concept}


def suggest_values(codes: Sequence[str], picklist: Sequence[str]) -> list[ValueSuggestion]:
    """Value-map proposals for a coded field: exact (folded) match 1.0; the same meaning through the lexicon
    ("A", "Aktif" -> "Active") 0.9; a unique first-letter match 0.6; otherwise "Other" when the picklist has it
    (0.3), else no target."""
    out: list[ValueSuggestion] = []
    folded = {fold(v): v for v in picklist}
    for code in dict.fromkeys(str(c) for c in codes):
        key = fold(code).strip()
        if key in folded:
            out.append(ValueSuggestion(code, folded[key], 1.0))
            continue
        meanings = _value_concepts(code)
        matches = [v for v in picklist if meanings & (_value_concepts(v) | {fold(v)})]
        if len(matches) == 1:
            out.append(ValueSuggestion(code, matches[0], 0.9))
            continue
        initials = [v for v in picklist if key and fold(v).startswith(key)]
        if len(initials) == 1:
            out.append(ValueSuggestion(code, initials[0], 0.6))
            continue
        other = next((v for v in picklist if fold(v) == "other"), None)
        out.append(ValueSuggestion(code, other, 0.3 if other else 0.0))
    return out


# ------------------------------------------------------------------------------------------------ entry points


def default_suggester() -> Suggester:
    """The rule-based suggester, unless settings/env turn on an OpenAI-compatible endpoint (off by default)."""
    from migrator.services.suggest.remote import remote_suggester_from_settings

    remote = remote_suggester_from_settings()
    return remote if remote is not None else RuleBasedSuggester()


def suggest_fields(
    source: SourceObjectDesc, destination_fields: list[DestField], *, system: str, destination: str,
    suggester: Suggester | None = None,
) -> list[FieldSuggestion]:
    return (suggester or default_suggester()).suggest_fields(source, destination_fields, system=system,
                                                             destination=destination)


def suggest_module(
    source: SourceObjectDesc, modules: Sequence[DestModule], *, system: str = "", destination: str = "",
    suggester: Suggester | None = None,
) -> tuple[str, float]:
    return (suggester or default_suggester()).suggest_module(source, modules, system=system, destination=destination)
