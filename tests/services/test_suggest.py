"""The mapping suggester: normalising, shapes, suggestions, value maps, the held-out calibration promise."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from connectors.base import DestModule
from migrator.services.suggest import (
    RuleBasedSuggester,
    SourceObjectDesc,
    describe_field,
    destination_fields,
    destination_modules,
    shape_of,
    suggest_fields,
    suggest_module,
    suggest_values,
)
from migrator.services.suggest.normalize import words

ROOT = Path(__file__).resolve().parents[2]


def one(name: str, *, module: str = "Contacts", destination: str = "zoho-crm", obj: str = "patient", **kw):
    desc = SourceObjectDesc(name=obj, fields=(describe_field(name, **kw),))
    return suggest_fields(desc, destination_fields(destination, module), system="test", destination=destination,
                          suggester=RuleBasedSuggester())[0]


@pytest.mark.parametrize(("text", "expected"), [
    ("PatFirstName", ("pat", "first", "name")),
    ("LName", ("l", "name")),
    ("Doğum_Tarihi", ("dogum", "tarihi")),
    ("SOYADI", ("soyadi",)),
    ("İlçe", ("ilce",)),
    ("Işık", ("isik",)),
])
def test_names_normalise_across_case_styles_and_turkish_letters(text, expected):
    assert words(text) == expected


@pytest.mark.parametrize(("value", "shape"), [
    ("ayse@example.com", "email-like"),
    ("0 (532) 123 45 67", "phone-like"),
    ("05.03.1987", "99.99.9999"),
    ("D2391", "A9999"),
    ("12345678901", "99999999999"),
    ("Ayşe Yılmaz", "Aa:w2:len<=16"),
])
def test_shapes_keep_the_outline_and_drop_the_value(value, shape):
    assert shape_of(value) == shape


def test_describe_field_never_keeps_samples():
    desc = describe_field("Cep", samples=["0 (532) 123 45 67", "0 (533) 765 43 21", None])
    assert desc.shapes == ("phone-like",) and desc.max_length == 17
    assert "532" not in repr(desc)


@pytest.mark.parametrize(("name", "target"), [
    ("Soyadı", "Last_Name"), ("Cep Telefonu", "Mobile"), ("Doğum Tarihi", "Date_of_Birth"), ("E-posta", "Email"),
    ("Posta Kodu", "Mailing_Zip"), ("İl", "Mailing_State"), ("İlçe", "Mailing_City"), ("Ev Telefonu", "Home_Phone"),
    ("LName", "Last_Name"), ("pri_provider_id", "Owner"), ("zipcode", "Mailing_Zip"),
])
def test_lexicon_maps_turkish_and_dentrix_names_to_zoho_contacts(name, target):
    assert one(name).target == target


def test_freshsales_targets_differ_from_zoho():
    assert one("cell_phone", destination="freshsales", module="contacts").target == "mobile_number"
    assert one("patient_id", destination="freshsales", module="contacts", type="id").target == "external_id"


def test_a_foreign_key_to_the_patient_becomes_a_lookup_on_activities():
    s = one("patient_id", module="Events", obj="appointment", type="reference")
    assert (s.target, s.transform) == ("Who_Id", {"kind": "lookup", "source_object": "patient"})


def test_default_transforms_follow_the_target_type():
    assert one("Cep Telefonu").transform == {"kind": "phone"}
    assert one("birth_date", type="date").transform == {"kind": "date"}
    assert one("pri_provider_id", type="reference").transform == {"kind": "owner"}


def test_an_email_shaped_column_does_not_go_to_a_phone_field():
    s = one("phone", samples=["a@example.com"])
    assert s.target != "Phone" or s.confidence < 0.9


def test_unknown_fields_get_a_create_proposal_named_the_destination_way():
    zoho = one("ChartNum")
    assert zoho.target is None and zoho.confidence == 0.0
    assert (zoho.create.label, zoho.create.api_name, zoho.create.type, zoho.create.length) == \
        ("Chart Number", "Chart_Number", "text", 50)
    fresh = one("TC Kimlik No", destination="freshsales", module="contacts")
    assert fresh.create.api_name == "cf_tc_kimlik_no"


def test_a_coded_field_to_create_becomes_a_picklist_of_its_codes():
    s = one("Kan Grubu", type="code", codes=["A+", "0-", "A+"])
    assert (s.create.type, s.create.picklist) == ("picklist", ("A+", "0-"))


def test_two_fields_claiming_one_target_leave_only_the_stronger_above_0_9():
    desc = SourceObjectDesc(name="patient", fields=(describe_field("phone"), describe_field("telefon")))
    out = suggest_fields(desc, destination_fields("zoho-crm", "Contacts"), system="t", destination="zoho-crm",
                         suggester=RuleBasedSuggester())
    assert [s.target for s in out] == ["Phone", "Phone"]
    assert sum(s.confidence >= 0.9 for s in out) == 1


def test_value_maps_match_codes_by_meaning_in_english_and_turkish():
    picklist = ("Active", "Inactive", "Archived", "Other")
    got = {v.source: (v.target, v.confidence) for v in suggest_values(["A", "Active", "Aktif", "PASİF", "Q"],
                                                                        picklist)}
    assert got == {"A": ("Active", 0.9), "Active": ("Active", 1.0), "Aktif": ("Active", 0.9),
                   "PASİF": ("Inactive", 0.9), "Q": ("Other", 0.3)}


@pytest.mark.parametrize(("obj", "destination", "module"), [
    ("patient", "zoho-crm", "Contacts"), ("Randevular", "zoho-crm", "Events"), ("v_appt", "freshsales",
                                                                                  "appointments"),
    ("Practices", "freshsales", "sales_accounts"), ("Tedavi Planları", "zoho-crm", "Deals"),
])
def test_objects_go_to_their_module(obj, destination, module):
    name, confidence = suggest_module(SourceObjectDesc(name=obj), destination_modules(destination),
                                      destination=destination, suggester=RuleBasedSuggester())
    assert name == module and confidence >= 0.9


def test_an_object_with_no_known_word_gets_a_low_confidence_module():
    _, confidence = suggest_module(SourceObjectDesc(name="xyz_table"), [DestModule("Contacts", "Contacts")],
                                   destination="zoho-crm", suggester=RuleBasedSuggester())
    assert confidence < 0.5


def _bench():
    spec = importlib.util.spec_from_file_location("mapping_accuracy", ROOT / "bench" / "mapping_accuracy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_precision_at_0_9_is_at_least_99_percent_on_the_held_out_split():
    rows = _bench().predictions("heldout")
    high = [r for r in rows if r["confidence"] >= 0.9]
    assert len(rows) >= 150 and len(high) >= 60
    assert sum(r["right"] for r in high) / len(high) >= 0.99, [r for r in high if not r["right"]]


def test_top1_accuracy_on_the_held_out_split_reaches_95_percent():
    rows = _bench().predictions("heldout")
    assert sum(r["right"] for r in rows) / len(rows) >= 0.95
