"""Controlled vocabularies: ACLED and GTD codes, registry terms, identifier normalisation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from rasid.core import i18n
from rasid.core.errors import NotFound, ValidationFailed
from rasid.registry import taxonomy
from rasid.registry.gazetteer import has_arabic

ACLED = {
    "Battles": [
        "Armed clash",
        "Government regains territory",
        "Non-state actor overtakes territory",
    ],
    "Explosions/Remote violence": [
        "Chemical weapon",
        "Air/drone strike",
        "Suicide bomb",
        "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED",
        "Grenade",
    ],
    "Violence against civilians": [
        "Sexual violence",
        "Attack",
        "Abduction/forced disappearance",
    ],
    "Protests": [
        "Peaceful protest",
        "Protest with intervention",
        "Excessive force against protesters",
    ],
    "Riots": ["Violent demonstration", "Mob violence"],
    "Strategic developments": [
        "Agreement",
        "Arrests",
        "Change to group/activity",
        "Disrupted weapons use",
        "Headquarters or base established",
        "Looting/property destruction",
        "Non-violent transfer of territory",
        "Other",
    ],
}


# --- ACLED ------------------------------------------------------------------------------------


def test_acled_event_and_sub_event_types_are_spelled_as_in_the_codebook() -> None:
    assert list(taxonomy.ACLED_EVENT_TYPES) == list(ACLED)
    for event_type, subs in ACLED.items():
        assert [t.key for t in taxonomy.acled_sub_event_types(event_type)] == subs
        for sub in subs:
            assert taxonomy.acled_event_type_of(sub) == event_type
    assert len(taxonomy.ACLED_SUB_EVENT_TYPE_LIST) == 25


def test_every_valid_acled_pair_passes() -> None:
    for event_type, subs in ACLED.items():
        taxonomy.check_acled(event_type, None)
        taxonomy.check_acled(event_type, "")
        for sub in subs:
            taxonomy.check_acled(event_type, sub)


@pytest.mark.parametrize(
    ("event_type", "sub_event_type", "field"),
    [
        ("Battles", "Air/drone strike", "sub_event_type"),  # belongs to Explosions
        ("Battles", "armed clash", "sub_event_type"),  # spelling must be exact
        ("Battles", "Ambush", "sub_event_type"),
        ("Battle", "Armed clash", "event_type"),
        ("Remote violence", None, "event_type"),  # the pre-2019 name
        ("", "Armed clash", "event_type"),
    ],
)
def test_invalid_acled_pairs_name_the_field(
    event_type: str, sub_event_type: str | None, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        taxonomy.check_acled(event_type, sub_event_type)
    assert caught.value.field == field


def test_a_misplaced_sub_event_type_says_where_it_belongs() -> None:
    with pytest.raises(ValidationFailed) as caught:
        taxonomy.check_acled("Battles", "Air/drone strike")
    assert "Explosions/Remote violence" in caught.value.message


# --- GTD --------------------------------------------------------------------------------------


def test_gtd_codebook_codes() -> None:
    attack = {t.code: t.en for t in taxonomy.terms("gtd_attack_type")}
    target = {t.code: t.en for t in taxonomy.terms("gtd_target_type")}
    weapon = {t.code: t.en for t in taxonomy.terms("gtd_weapon_type")}
    assert sorted(attack) == list(range(1, 10))
    assert sorted(target) == list(range(1, 23))
    assert sorted(weapon) == list(range(1, 14))
    assert attack[1] == "Assassination"
    assert attack[3] == "Bombing/Explosion"
    assert attack[5] == "Hostage Taking (Barricade Incident)"
    assert attack[6] == "Hostage Taking (Kidnapping)"
    assert attack[9] == "Unknown"
    assert target[6] == "Airports & Aircraft"
    assert target[11] == "Maritime"
    assert target[14] == "Private Citizens & Property"
    assert target[17] == "Terrorists/Non-State Militia"
    assert target[22] == "Violent Political Party"
    assert weapon[6] == "Explosives"
    assert weapon[10].startswith("Vehicle (not to include vehicle-borne explosives")
    assert weapon[13] == "Unknown"
    assert taxonomy.gtd_code("gtd_attack_type", "bombing/explosion") == 3
    assert taxonomy.gtd_code("gtd_target_type", "Maritime") == 11


def test_check_gtd_accepts_codes_and_blanks() -> None:
    taxonomy.check_gtd(3, 11, 6)
    taxonomy.check_gtd(None, None, None)
    taxonomy.check_gtd(9, 20, 13)


@pytest.mark.parametrize(
    ("codes", "field"),
    [
        ((10, None, None), "attack_type"),
        ((0, None, None), "attack_type"),
        ((True, None, None), "attack_type"),
        ((1, 23, None), "target_type"),
        ((1, 1, 14), "weapon_type"),
        ((None, None, -1), "weapon_type"),
    ],
)
def test_check_gtd_names_the_bad_field(codes: tuple[int | None, ...], field: str) -> None:
    attack, target, weapon = codes
    with pytest.raises(ValidationFailed) as caught:
        taxonomy.check_gtd(attack, target, weapon)
    assert caught.value.field == field


# --- registry vocabularies --------------------------------------------------------------------


def test_registry_vocabularies_have_the_agreed_keys() -> None:
    assert set(taxonomy.INVOLVEMENT_ROLES) == {
        "perpetrator", "target", "victim", "arrested", "suspect", "witness", "owner",
    }  # fmt: skip
    assert set(taxonomy.GROUP_KINDS) == {"armed_group", "network", "company", "other"}
    assert [t.code for t in taxonomy.terms("geo_precision")] == [1, 2, 3]
    assert list(taxonomy.DATE_PRECISIONS) == ["day", "month", "year"]
    assert set(taxonomy.IDENTIFIER_KINDS) == {
        "national_id", "passport", "phone", "email", "plate", "mmsi", "imo", "call_sign",
    }  # fmt: skip
    assert {
        "member_of", "leader_of", "associate_of", "relative_of", "owns", "operates",
        "located_at", "funds", "supplies", "commands", "employed_by", "communicates_with",
    } <= set(taxonomy.LINK_TYPES)  # fmt: skip


def test_links_read_both_ways() -> None:
    member = taxonomy.LINK_TYPES["member_of"]
    assert member.directed
    assert (member.label("en"), member.inverse_label("en")) == ("Member of", "Has member")
    assert taxonomy.inverse_label("member_of", "ar") == "من أعضائه"
    assert taxonomy.inverse_label("employed_by", "en") == "Employs"
    associate = taxonomy.LINK_TYPES["associate_of"]
    assert not associate.directed
    assert associate.inverse_label("en") == associate.label("en")
    with pytest.raises(NotFound):
        taxonomy.inverse_label("married_to")


def test_every_term_has_an_english_and_an_arabic_label() -> None:
    for name, table in taxonomy.VOCABULARIES.items():
        assert table, name
        for key, term in table.items():
            assert key == term.key
            assert term.en.strip() and term.en == term.en.strip(), (name, key)
            assert has_arabic(term.ar), (name, key)
    for link in taxonomy.LINK_TYPES.values():
        assert link.inverse_en and has_arabic(link.inverse_ar)


def test_every_english_label_is_extracted_for_translation() -> None:
    source = Path(taxonomy.__file__)
    extracted = {
        message for _, message, _, _ in extract_from_file("python", source, keywords={"N_": None})
    }
    labels = {t.en for table in taxonomy.VOCABULARIES.values() for t in table.values()}
    labels |= {link.inverse_en for link in taxonomy.LINK_TYPES.values()}
    assert labels - extracted == set()


def test_labels_in_both_languages() -> None:
    assert taxonomy.label("gtd_attack_type", 3, "ar") == "تفجير/انفجار"
    assert taxonomy.label("gtd_attack_type", "3", "en") == "Bombing/Explosion"
    assert taxonomy.label("acled_event_type", "Battles", "ar") == "معارك"
    assert taxonomy.label("acled_sub_event_type", "Armed clash", "en") == "Armed clash"
    assert taxonomy.label("involvement_role", "victim", "ar") == "ضحية"
    try:
        i18n.set_language("en")
        assert taxonomy.label("group_kind", "armed_group") == "Armed group"
        i18n.set_language("ar")
        assert taxonomy.label("group_kind", "armed_group") == "جماعة مسلحة"
    finally:
        i18n.set_language(i18n.DEFAULT_LANGUAGE)


def test_unknown_vocabularies_and_keys() -> None:
    with pytest.raises(NotFound) as caught:
        taxonomy.label("colours", "red", "en")
    assert caught.value.field == "vocabulary"
    with pytest.raises(NotFound):
        taxonomy.label("group_kind", "militia", "en")
    taxonomy.check_term("involvement_role", "suspect")
    with pytest.raises(ValidationFailed) as refused:
        taxonomy.check_term("involvement_role", "bystander", field="involvements.0.role")
    assert refused.value.field == "involvements.0.role"


# --- identifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+967 777 123 456", "+967777123456"),
        ("00967777123456", "+967777123456"),
        ("967 777 123 456", "+967777123456"),
        ("0777-123-456", "+967777123456"),
        ("777 123 456", "+967777123456"),
        ("(01) 234 567", "+9671234567"),
        ("+967 0777 123 456", "+967777123456"),
        ("٧٧٧١٢٣٤٥٦", "+967777123456"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("12345678", "12345678"),
    ],
)
def test_phone_numbers_normalise_to_one_form(value: str, expected: str) -> None:
    assert taxonomy.normalise_identifier("phone", value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("phone", "777 ABC"),
        ("phone", "+967 12"),
        ("phone", "1234"),
        ("phone", "+1234567890123456"),
        ("imo", "9074728"),
        ("imo", "907472"),
        ("mmsi", "12345678"),
        ("mmsi", "47312345X"),
        ("email", "not-an-address"),
        ("passport", "A1234567!"),
        ("call_sign", "7O/ABC"),
        ("plate", "12#45"),
        ("national_id", "   "),
        ("fax", "1234"),
    ],
)
def test_invalid_identifiers_are_refused_on_the_identifiers_field(kind: str, value: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        taxonomy.normalise_identifier(kind, value)
    assert caught.value.field == "identifiers"
    assert caught.value.message


def test_imo_check_digit() -> None:
    assert taxonomy.is_valid_imo("9074729")
    assert not taxonomy.is_valid_imo("9074728")
    assert taxonomy.normalise_identifier("imo", "IMO 9074729") == "9074729"
    assert taxonomy.normalise_identifier("imo", "9074729") == "9074729"
    with pytest.raises(ValidationFailed) as caught:
        taxonomy.normalise_identifier("imo", "IMO 9074728")
    assert "check digit" in caught.value.message


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("passport", " ab 123-4567 ", "AB1234567"),
        ("call_sign", "7o-abc", "7OABC"),
        ("plate", "12345 - أ", "12345أ"),
        ("plate", "1/12345", "1/12345"),
        ("national_id", "0123 4567 890", "01234567890"),
        ("mmsi", "473 123 456", "473123456"),
        ("email", " Someone@Example.ORG ", "someone@example.org"),
    ],
)
def test_other_identifiers_normalise(kind: str, value: str, expected: str) -> None:
    assert taxonomy.normalise_identifier(kind, value) == expected
