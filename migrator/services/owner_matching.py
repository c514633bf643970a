"""Pure matching rules for owners: email normalisation and Turkish/accent-aware name similarity.

No Django here, so the rules are easy to test and to reuse (the CLI, the admin and the loader share them).
Which mailbox providers ignore dots or +tags, and which domains are aliases of one another, is data, not code:
pass an `EmailRules` built from the migration's settings."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher

# Mailbox providers known to deliver "a.b+x@gmail.com" to "ab@gmail.com". Nowhere else is a dot or a +tag
# ignorable: on a clinic's own domain "ayse.kaya" and "ayse.kaya+dr" may be different people.
DEFAULT_IGNORE_DOTS: frozenset[str] = frozenset({"gmail.com"})
DEFAULT_IGNORE_PLUS_TAGS: frozenset[str] = frozenset(
    {"gmail.com", "outlook.com", "hotmail.com", "live.com", "icloud.com", "me.com", "yandex.com", "fastmail.com"}
)
DEFAULT_DOMAIN_ALIASES: Mapping[str, str] = {"googlemail.com": "gmail.com", "yandex.com.tr": "yandex.com"}

# A name suggestion needs at least this similarity (0–1) to be offered for review.
NAME_SUGGESTION_THRESHOLD = 0.85

# Titles that say nothing about who a person is: Turkish (Dt., Uzm. Dt., Doç., Prof.) and US (DDS, RDH…).
_TITLES = frozenset({"dr", "dt", "uzm", "doc", "prof", "mr", "mrs", "ms", "miss", "dds", "dmd", "rdh", "md", "phd"})

# Turkish letters folded one to one. NFKD alone would drop the dotless ı ("Işık" → "Isk") and decompose İ into
# "i" + a combining dot that survives lower() (reference/dental-data.md, "Encoding traps").
_TURKISH_FOLD = str.maketrans({
    "İ": "i", "I": "i", "ı": "i", "i": "i",
    "Ş": "s", "ş": "s", "Ğ": "g", "ğ": "g", "Ç": "c", "ç": "c",
    "Ö": "o", "ö": "o", "Ü": "u", "ü": "u",
})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class EmailRules:
    """How to compare two emails beyond case. `domain_aliases` pairs are symmetric (clinic.com.tr ↔ clinic.com)."""

    domain_aliases: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_DOMAIN_ALIASES))
    ignore_dots: frozenset[str] = DEFAULT_IGNORE_DOTS
    ignore_plus_tags: frozenset[str] = DEFAULT_IGNORE_PLUS_TAGS

    @classmethod
    def with_aliases(
        cls, aliases: Mapping[str, str] | Iterable[tuple[str, str]] | None, *,
        ignore_dots: Iterable[str] = (), ignore_plus_tags: Iterable[str] = (),
    ) -> EmailRules:
        """The default rules plus the migration's own domain aliases and mail domains known to ignore dots or
        +tags (a clinic's Google Workspace domain, for instance)."""
        merged = dict(DEFAULT_DOMAIN_ALIASES)
        pairs = aliases.items() if isinstance(aliases, Mapping) else (aliases or ())
        for alias, canonical in pairs:
            merged[alias.strip().lower()] = canonical.strip().lower()
        return cls(
            domain_aliases=merged,
            ignore_dots=DEFAULT_IGNORE_DOTS | {d.strip().lower() for d in ignore_dots},
            ignore_plus_tags=DEFAULT_IGNORE_PLUS_TAGS | {d.strip().lower() for d in ignore_plus_tags},
        )

    def domain_group(self, domain: str) -> set[str]:
        """Every domain aliased to `domain`, whichever direction the pairs were given in."""
        groups: dict[str, set[str]] = {}
        for a, b in self.domain_aliases.items():
            a, b = a.lower(), b.lower()
            group = groups.get(a, {a}) | groups.get(b, {b})
            for member in group:
                groups[member] = group
        return groups.get(domain, {domain})

    def canonical_domain(self, domain: str) -> str:
        """One representative per group of aliased domains."""
        return min(self.domain_group(domain))


def email_exact(email: str) -> str:
    """The key for an exact match: case-insensitive, nothing else forgiven."""
    return email.strip().lower() if "@" in email else ""


def email_normalize(email: str, rules: EmailRules) -> str:
    """The key for a normalised match: trimmed, lower-cased, domain aliases folded, and dots or +tags dropped
    only where the provider itself ignores them."""
    email = email_exact(email)
    if not email:
        return ""
    local, _, domain = email.rpartition("@")
    # A rule given for any name of an aliased domain holds for all its names (clinic.co ↔ clinic.com).
    group = rules.domain_group(domain)
    if group & rules.ignore_plus_tags:
        local = local.split("+", 1)[0]
    if group & rules.ignore_dots:
        local = local.replace(".", "")
    return f"{local}@{min(group)}" if local else ""


def name_fold(name: str) -> str:
    """Lower-case ASCII words of a person's name: Turkish letters folded properly, other accents dropped,
    titles and punctuation removed. "Uzm. Dt. IŞIK Şahin" → "isik sahin"."""
    text = unicodedata.normalize("NFC", name).translate(_TURKISH_FOLD)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    words = [w for w in _NON_ALNUM.sub(" ", text).split() if w not in _TITLES]
    return " ".join(words)


def name_similarity(a: str, b: str) -> float:
    """0–1 similarity of two names, insensitive to word order ("Şahin, Işık" ~ "Isik Sahin") and robust to a
    missing middle name (the shorter name's words all present in the longer one score high)."""
    fa, fb = name_fold(a), name_fold(b)
    if not fa or not fb:
        return 0.0
    if fa == fb:
        return 1.0
    ta, tb = fa.split(), fb.split()
    sorted_ratio = SequenceMatcher(None, " ".join(sorted(ta)), " ".join(sorted(tb))).ratio()
    common = set(ta) & set(tb)
    subset = 0.0
    if len(common) >= 2 and common in (set(ta), set(tb)):
        # Every word of the shorter name appears in the longer one: "Ayşe Kaya" vs "Ayşe Nur Kaya".
        subset = 0.9
    return max(sorted_ratio, subset)


@dataclass(frozen=True)
class Candidate:
    key: str          # the destination user's identity in the caller's terms (a primary key)
    email: str
    name: str
    active: bool


@dataclass(frozen=True)
class Proposal:
    method: str       # "exact_email", "normalized_email", "name_suggestion" or "none"
    candidate: Candidate | None
    score: float


def _prefer_active(candidates: list[Candidate]) -> Candidate:
    return sorted(candidates, key=lambda c: (not c.active, c.key))[0]


class Matcher:
    """Proposes a destination user for a source owner: exact email, then normalised email, then a name
    suggestion (which callers must mark for review, never confirm on their own)."""

    def __init__(self, candidates: Iterable[Candidate], rules: EmailRules) -> None:
        self.rules = rules
        self.candidates = list(candidates)
        self._exact: dict[str, list[Candidate]] = {}
        self._normal: dict[str, list[Candidate]] = {}
        for c in self.candidates:
            if key := email_exact(c.email):
                self._exact.setdefault(key, []).append(c)
            if key := email_normalize(c.email, rules):
                self._normal.setdefault(key, []).append(c)

    def propose(self, *, email: str, name: str) -> Proposal:
        if (key := email_exact(email)) and key in self._exact:
            return Proposal("exact_email", _prefer_active(self._exact[key]), 1.0)
        if (key := email_normalize(email, self.rules)) and key in self._normal:
            return Proposal("normalized_email", _prefer_active(self._normal[key]), 1.0)
        best: tuple[float, bool, Candidate] | None = None
        for c in self.candidates:
            score = name_similarity(name, c.name)
            if score >= NAME_SUGGESTION_THRESHOLD and (best is None or (score, c.active) > best[:2]):
                best = (score, c.active, c)
        if best is not None:
            return Proposal("name_suggestion", best[2], round(best[0], 3))
        return Proposal("none", None, 0.0)
