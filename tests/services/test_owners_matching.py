"""The pure matching rules: email keys and Turkish/accent-aware names."""

import pytest

from migrator.services.owner_matching import (
    Candidate,
    EmailRules,
    Matcher,
    email_exact,
    email_normalize,
    name_fold,
    name_similarity,
)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Işık Şahin", "isik sahin"),
        ("IŞIK ŞAHİN", "isik sahin"),
        ("İSTANBUL".lower(), "istanbul"),       # "i̇stanbul": the combining dot must go
        ("Gülşen Çağlayan-Öztürk", "gulsen caglayan ozturk"),
        ("Uzm. Dt. Ayşe Kaya", "ayse kaya"),
        ("José Álvarez, DDS", "jose alvarez"),
    ],
)
def test_name_fold_turns_turkish_and_accented_names_into_plain_words(raw: str, folded: str) -> None:
    assert name_fold(raw) == folded


def test_nfkd_alone_would_lose_the_dotless_i_but_name_fold_keeps_it() -> None:
    assert name_fold("Işık") == "isik"


def test_name_similarity_ignores_case_accents_titles_and_word_order() -> None:
    assert name_similarity("Işık Şahin", "Isik Sahin") == 1.0
    assert name_similarity("Dr. Şahin, Işık", "isik sahin") == 1.0
    assert name_similarity("Ayşe Kaya", "Ayşe Nur Kaya") >= 0.85
    assert name_similarity("Ayşe Kaya", "Mehmet Yılmaz") < 0.5


def test_exact_email_forgives_only_case_and_surrounding_spaces() -> None:
    assert email_exact("  Ayse.Kaya@Clinic.COM ") == "ayse.kaya@clinic.com"
    assert email_exact("not an email") == ""


def test_normalised_email_folds_domain_aliases_in_either_direction() -> None:
    rules = EmailRules.with_aliases({"clinic.com.tr": "clinic.com"})
    assert email_normalize("ayse@clinic.com.tr", rules) == email_normalize("AYSE@clinic.com", rules)
    reverse = EmailRules.with_aliases({"clinic.com": "clinic.com.tr"})
    assert email_normalize("ayse@clinic.com.tr", reverse) == email_normalize("ayse@clinic.com", reverse)


def test_dots_and_plus_tags_are_dropped_only_where_the_provider_ignores_them() -> None:
    rules = EmailRules()
    assert email_normalize("Ayse.Kaya+dentist@gmail.com", rules) == "aysekaya@gmail.com"
    assert email_normalize("ayse.kaya@googlemail.com", rules) == "aysekaya@gmail.com"
    assert email_normalize("ayse.kaya+x@outlook.com", rules) == "ayse.kaya@outlook.com"
    assert email_normalize("ayse.kaya+x@clinic.com", rules) == "ayse.kaya+x@clinic.com"
    assert email_normalize("a.yse@clinic.com", rules) != email_normalize("ayse@clinic.com", rules)


def test_which_providers_ignore_dots_is_configurable_data() -> None:
    rules = EmailRules(ignore_dots=frozenset({"clinic.com"}), ignore_plus_tags=frozenset({"clinic.com"}))
    assert email_normalize("a.yse+x@clinic.com", rules) == "ayse@clinic.com"


def _matcher(*candidates: Candidate) -> Matcher:
    return Matcher(candidates, EmailRules.with_aliases({"clinic.com.tr": "clinic.com"}))


def test_matcher_prefers_exact_email_over_normalised_and_names() -> None:
    exact = Candidate("1", "ayse.kaya@clinic.com", "Someone Else", True)
    alias = Candidate("2", "ayse.kaya@clinic.com.tr", "Ayşe Kaya", True)
    proposal = _matcher(alias, exact).propose(email="Ayse.Kaya@clinic.com", name="Ayşe Kaya")
    assert (proposal.method, proposal.candidate) == ("exact_email", exact)
    proposal = _matcher(alias).propose(email="ayse.kaya@clinic.com", name="Nobody")
    assert (proposal.method, proposal.candidate) == ("normalized_email", alias)


def test_matcher_suggests_by_name_only_above_the_threshold() -> None:
    isik = Candidate("1", "isahin@other.com", "Isik Sahin", True)
    assert _matcher(isik).propose(email="", name="Işık Şahin").method == "name_suggestion"
    assert _matcher(isik).propose(email="", name="Mehmet Öz").method == "none"


def test_matcher_prefers_an_active_user_when_an_email_is_listed_twice() -> None:
    old = Candidate("1", "ayse@clinic.com", "Ayşe", False)
    new = Candidate("2", "AYSE@clinic.com", "Ayşe", True)
    assert _matcher(old, new).propose(email="ayse@clinic.com", name="").candidate == new


def test_a_dot_rule_given_for_one_name_of_an_aliased_domain_holds_for_the_other() -> None:
    rules = EmailRules.with_aliases({"clinic.co": "clinic.com"}, ignore_dots=["clinic.com"])
    assert email_normalize("a.yse@clinic.co", rules) == email_normalize("ayse@clinic.com", rules)
