"""How one source field scores against one destination field.

Evidence, strongest first: the same name (after normalising case style and Turkish letters); a lexicon phrase that
*is* the whole name or label; a foreign-key name pointing at a known object; a phrase found inside the name; shared
words. Type and value-shape conflicts pull a score down. The tiers are set so that a score of 0.9 or more is only
reached by evidence that was right in at least 99% of the training split (bench/mapping_accuracy.py checks the
held-out split)."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.base import DestField
from migrator.services.suggest.lexicon import COMPACT, DEST_CONCEPTS, ID_WORDS, NOISE, OBJECT_WORDS, PHRASES
from migrator.services.suggest.normalize import compact, phrase, words
from migrator.services.suggest.shapes import SHAPES_EMAIL, SHAPES_PHONE
from migrator.services.suggest.types import SourceFieldDesc

# Tiers (raw scores are used directly as confidences; see module docstring).
EXACT_NAME = 0.97
LEXICON_EXACT = 0.95
FOREIGN_KEY = 0.93
LEXICON_DENOISED = 0.92
LEXICON_AMBIGUOUS = 0.8
LEXICON_CONTAINED = 0.78
FULL_NAME_SPLIT = 0.6
OVERLAP_BASE, OVERLAP_SPAN, OVERLAP_CAP = 0.25, 0.45, 0.7
TYPE_CONFLICT, SHAPE_CONFLICT = 0.6, 0.6
CREATE_BELOW = 0.5

# Which destination types accept which source types.
COMPATIBLE: dict[str, frozenset[str]] = {
    "string": frozenset({"text", "textarea", "picklist", "email", "phone", "other", "multiselect"}),
    "text": frozenset({"textarea", "text", "other"}),
    "integer": frozenset({"integer", "decimal", "currency", "text", "picklist"}),
    "decimal": frozenset({"decimal", "currency", "text"}),
    "currency": frozenset({"currency", "decimal"}),
    "boolean": frozenset({"boolean", "picklist"}),
    "date": frozenset({"date", "datetime"}),
    "datetime": frozenset({"datetime", "date"}),
    "email": frozenset({"email", "text"}),
    "phone": frozenset({"phone", "text"}),
    "code": frozenset({"picklist", "text", "multiselect", "owner", "lookup"}),
    "json": frozenset({"textarea", "json", "text"}),
    "id": frozenset({"text", "integer"}),
    "reference": frozenset({"lookup", "owner", "text"}),
    "file": frozenset(),
}


@dataclass(frozen=True)
class ConceptHit:
    concepts: tuple[str, ...]
    strength: float
    reference: str = ""          # for foreign keys: the object pointed at


def concepts_of_text(text: str) -> tuple[tuple[str, ...], float]:
    """(concepts, tier) for a name or a label by the lexicon alone."""
    if not text:
        return (), 0.0
    p, c = phrase(text), compact(text)
    if p in PHRASES:
        return PHRASES[p], LEXICON_EXACT
    if c in COMPACT:
        return COMPACT[c], LEXICON_EXACT
    ws = [w for w in words(text) if w not in NOISE]
    if ws and len(ws) < len(words(text)):
        dp = " ".join(ws)
        if dp in PHRASES:
            return PHRASES[dp], LEXICON_DENOISED
        if "".join(ws) in COMPACT:
            return COMPACT["".join(ws)], LEXICON_DENOISED
    # The longest lexicon phrase inside the words.
    all_words = words(text)
    for size in range(len(all_words) - 1, 0, -1):
        for start in range(len(all_words) - size + 1):
            sub = " ".join(all_words[start:start + size])
            if len(sub) >= 3 and sub in PHRASES:
                return PHRASES[sub], LEXICON_CONTAINED
    return (), 0.0


def foreign_key(name: str, own_object: str) -> ConceptHit | None:
    """'patient_id' on an appointment points at the patient; on the patient it is the record's own id."""
    ws = words(name)
    if not ws:
        return None
    if ws in (("id",), ("no",), ("kod",), ("kodu",)):
        return ConceptHit(("source_id",), FOREIGN_KEY)
    if len(ws) < 2 or ws[-1] not in ID_WORDS:
        return None
    head = [w for w in ws[:-1] if w not in {"pri", "primary", "sorumlu"}]
    if not head:
        return None
    target = OBJECT_WORDS.get(head[-1]) or OBJECT_WORDS.get("".join(head))
    own_words = words(own_object) or ("",)
    own = OBJECT_WORDS.get(own_words[-1], own_words[-1])
    if target is None:
        return None
    if target == own or head[-1] in own_words:
        return ConceptHit(("source_id",), FOREIGN_KEY)
    concept = {"patient": "patient_ref", "provider": "owner", "practice": "account_ref"}.get(target)
    if concept is None or (len(head) > 1 and head[0] in {"sec", "secondary", "addtnl", "additional", "referring"}):
        return ConceptHit((f"ref:{target}",), FOREIGN_KEY, reference=target)
    return ConceptHit((concept,), FOREIGN_KEY, reference=target)


def source_concepts(field: SourceFieldDesc, own_object: str) -> ConceptHit:
    fk = foreign_key(field.name, own_object)
    if fk is not None and (field.type in {"id", "reference", "integer", "string", "code"}):
        return fk
    best = ConceptHit((), 0.0)
    for text in (field.name, field.label):
        concepts, tier = concepts_of_text(text)
        if tier > best.strength or (tier == best.strength and len(concepts) < len(best.concepts)):
            best = ConceptHit(concepts, tier)
    return best


def dest_concept(module: str, field: DestField) -> str:
    override = DEST_CONCEPTS.get((module, field.api_name)) or DEST_CONCEPTS.get(field.api_name)
    if override:
        return override
    for text in (field.label, field.api_name):
        concepts, tier = concepts_of_text(text)
        if tier >= LEXICON_DENOISED and len(concepts) == 1:
            return concepts[0]
    for text in (field.api_name, field.label):
        concepts, _ = concepts_of_text(text)
        if concepts:
            return concepts[0]
    return ""


def type_ok(source: SourceFieldDesc, dest: DestField) -> bool:
    allowed = COMPATIBLE.get(source.type)
    return allowed is None or dest.type in allowed


def shape_ok(source: SourceFieldDesc, dest: DestField) -> bool:
    """Value shapes veto, never vouch: an e-mail column must look like e-mail addresses, and vice versa."""
    if not source.shapes:
        return True
    top = source.shapes[0]
    if dest.type == "email":
        return top == SHAPES_EMAIL
    if dest.type == "phone":
        return top == SHAPES_PHONE
    if dest.type in ("date", "datetime"):
        return top in ("date", "datetime") or top.startswith("9") or top == "number"
    return top not in (SHAPES_EMAIL,) or dest.type in ("text", "textarea")


def overlap(source: SourceFieldDesc, dest: DestField) -> float:
    a = set(words(source.name)) | set(words(source.label))
    a -= NOISE
    b = set(words(dest.api_name)) | set(words(dest.label))
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
