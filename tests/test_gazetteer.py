"""The gazetteer: Yemen's governorates, districts, uzlahs and villages, and finding them by name."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from rasid.core.errors import NotFound, ValidationFailed
from rasid.registry import gazetteer

ISO_CODES = {
    "YE-SA", "YE-SN", "YE-AD", "YE-TA", "YE-HU", "YE-IB", "YE-DH", "YE-HJ", "YE-AM", "YE-SD",
    "YE-JA", "YE-MA", "YE-BA", "YE-DA", "YE-LA", "YE-AB", "YE-SH", "YE-HD", "YE-MR", "YE-MW",
    "YE-RA", "YE-SU",
}  # fmt: skip


# --- governorates ---------------------------------------------------------------------------


def test_all_22_governorates_have_iso_codes_names_and_seats_in_yemen() -> None:
    govs = gazetteer.governorates()
    assert len(govs) == 22
    assert {g.code for g in govs} == ISO_CODES
    for g in govs:
        assert g.name_en and gazetteer.has_arabic(g.name_ar)
        assert 12.0 < g.seat_lat < 19.0 and 42.0 < g.seat_lon < 55.0
        assert gazetteer.point_in_yemen(g.seat_lat, g.seat_lon), g.code
    sadah = gazetteer.governorate("YE-SD")
    assert (sadah.name_en, sadah.name_ar) == ("Sa'dah", "صعدة")
    assert sadah.seat_lat == pytest.approx(16.94, abs=0.01)
    assert gazetteer.governorate("YE-HD").seat_lat == pytest.approx(14.54, abs=0.01)  # Mukalla


def test_package_governorates_match_the_iso_rows_one_to_one() -> None:
    sources = gazetteer.governorate_sources()
    assert len(sources) == 22
    assert len({s.package_id for s in sources}) == 22
    assert sorted(s.code for s in sources) == sorted(ISO_CODES)
    for s in sources:
        gov = gazetteer.governorate(s.code)
        # Same place: the Arabic names agree, and the package's spelling finds it.
        assert gazetteer.normalise_arabic(s.package_name_ar) == gazetteer.normalise_arabic(
            gov.name_ar
        )
        assert s.package_name_en in (gov.name_en, *gov.aliases)
        first = gazetteer.search_places(s.package_name_en, limit=1)[0]
        assert (first.kind, first.id, first.score) == ("governorate", s.code, 100.0)


def test_governorate_lookup_ignores_case_and_reports_unknown_codes() -> None:
    assert gazetteer.governorate(" ye-hu ").name_en == "Al Hudaydah"
    with pytest.raises(NotFound) as caught:
        gazetteer.governorate("YE-XX")
    assert caught.value.field == "governorate"
    assert "YE-XX" in caught.value.message


# --- districts, uzlahs, villages --------------------------------------------------------------


def test_335_districts_each_in_one_governorate() -> None:
    all_districts = gazetteer.districts()
    assert len(all_districts) == 335
    assert len({d.id for d in all_districts}) == 335
    assert sum(len(gazetteer.districts(code)) for code in ISO_CODES) == 335
    assert {d.governorate_code for d in all_districts} == ISO_CODES
    assert all(d.name_ar and d.name_en for d in all_districts)
    mukalla = gazetteer.district("247")
    assert (mukalla.name_ar, mukalla.governorate_code) == ("المكلا", "YE-HD")
    assert len(gazetteer.districts("YE-SU")) == 2  # Hadibu, Qulansiyah and Abd al-Kuri
    assert len(gazetteer.districts("ye-hu")) == 26


def test_uzlahs_and_villages_link_to_their_parents() -> None:
    uzlah_total = village_total = 0
    for d in gazetteer.districts():
        for u in gazetteer.uzlahs(d.id):
            assert (u.district_id, u.governorate_code) == (d.id, d.governorate_code)
            uzlah_total += 1
            for v in gazetteer.villages(u.id):
                assert (v.uzlah_id, v.district_id, v.governorate_code) == (
                    u.id,
                    d.id,
                    d.governorate_code,
                )
                village_total += 1
    assert uzlah_total == 2234
    assert village_total == 41494
    village = gazetteer.village("1")
    assert gazetteer.uzlah(village.uzlah_id).district_id == village.district_id
    assert gazetteer.district(village.district_id).governorate_code == "YE-SA"


@pytest.mark.parametrize(
    ("lookup", "field"),
    [
        (lambda: gazetteer.district("99999"), "district"),
        (lambda: gazetteer.districts("YE-ZZ"), "governorate"),
        (lambda: gazetteer.uzlahs("abc"), "district"),
        (lambda: gazetteer.villages("0"), "uzlah"),
        (lambda: gazetteer.village("999999"), "village"),
    ],
)
def test_unknown_ids_raise_not_found_naming_the_level(
    lookup: Callable[[], object], field: str
) -> None:
    with pytest.raises(NotFound) as caught:
        lookup()
    assert caught.value.field == field


# --- search -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("Sa'dah", "YE-SD"),
        ("Saada", "YE-SD"),
        ("saadah", "YE-SD"),
        ("Sa'ada", "YE-SD"),
        ("SADAH", "YE-SD"),
        ("صعدة", "YE-SD"),
        ("صَعْدَة", "YE-SD"),
        ("صعده", "YE-SD"),
        ("Hodeidah", "YE-HU"),
        ("Al Hudaydah", "YE-HU"),
        ("Al-Hodeidah", "YE-HU"),
        ("Hudaida", "YE-HU"),
        ("الحديدة", "YE-HU"),
        ("Hadramawt", "YE-HD"),
        ("Hadramaut", "YE-HD"),
        ("Hadhramaut", "YE-HD"),
        ("Hadramot", "YE-HD"),
        ("حضرموت", "YE-HD"),
        ("Ad Dali'", "YE-DA"),
        ("Al Dhale'e", "YE-DA"),
        ("الضالع", "YE-DA"),
        ("Lahij", "YE-LA"),
        ("Lahj", "YE-LA"),
        ("Al Mahrah", "YE-MR"),
        ("Al Maharah", "YE-MR"),
        ("Amanat Al Asimah", "YE-SA"),
        ("Amant Al-Asmah", "YE-SA"),
        ("Sana'a City", "YE-SA"),
        ("أمانة العاصمة", "YE-SA"),
        ("Sanaa", "YE-SN"),
        ("Socotra", "YE-SU"),
        ("Soqotra", "YE-SU"),
        ("سقطرى", "YE-SU"),
        ("Raymah", "YE-RA"),
        ("Raimah", "YE-RA"),
        ("Dhamar", "YE-DH"),
        ("Thamar", "YE-DH"),
        ("Ma'rib", "YE-MA"),
        ("Al Bayda", "YE-BA"),
        ("Al-Baidha", "YE-BA"),
        ("Al Mahwit", "YE-MW"),
        ("Taizz", "YE-TA"),
        ("تعز", "YE-TA"),
    ],
)
def test_spelling_variants_find_the_governorate_first(query: str, code: str) -> None:
    first = gazetteer.search_places(query)[0]
    assert (first.kind, first.id, first.governorate_code) == ("governorate", code, code)
    assert first.score == 100.0


def test_governorate_ranks_above_a_district_of_the_same_name() -> None:
    results = gazetteer.search_places("Sa'dah", limit=5)
    assert [(m.kind, m.id) for m in results[:2]] == [("governorate", "YE-SD"), ("district", "155")]
    assert results[0].score == results[1].score == 100.0
    scores = [m.score for m in results]
    assert scores == sorted(scores, reverse=True)


def test_mukalla_finds_the_district_in_hadramawt() -> None:
    for query in ("Mukalla", "Al Mukalla", "Al-Mokalla", "المكلا"):
        first = gazetteer.search_places(query)[0]
        assert (first.kind, first.id, first.governorate_code) == ("district", "247", "YE-HD")


def test_close_misspellings_still_rank_the_right_place_high() -> None:
    first = gazetteer.search_places("Hudyda", kinds={"governorate"})[0]
    assert first.id == "YE-HU" and 50 <= first.score < 100
    assert gazetteer.search_places("Zabid", kinds={"district"})[0].name_en == "Zabeed"


def test_kinds_restrict_the_search_and_unknown_kinds_are_refused() -> None:
    results = gazetteer.search_places("Zabid", kinds={"uzlah", "district"})
    assert results and {m.kind for m in results} <= {"uzlah", "district"}
    assert gazetteer.search_places("   ") == []
    with pytest.raises(ValidationFailed) as caught:
        gazetteer.search_places("Aden", kinds={"city"})
    assert caught.value.field == "kinds"


def test_nearest_names_suggest_in_the_script_of_the_query() -> None:
    assert gazetteer.nearest_names("Hudaida")[0] == "Al Hudaydah"
    assert gazetteer.nearest_names("صعده")[0] == "صعدة"
    assert gazetteer.nearest_names("Hadramout", kinds={"governorate"})[0] == "Hadramawt"
    assert len(gazetteer.nearest_names("Sadah", limit=2)) <= 2
    assert gazetteer.nearest_names("xqzjvkw") == []


def test_normalisation_folds_the_usual_variants() -> None:
    ar = gazetteer.normalise_arabic
    assert ar("صَعْدَة") == ar("صعده") == "صعده"
    assert ar("الحـــديدة") == ar("حديده") == "حديده"
    assert ar("إب") == ar("اب")
    assert ar("سقطرى") == ar("سقطري")
    assert ar("مأرب") == ar("مارب")
    lat = gazetteer.normalise_latin
    assert lat("Sa'dah") == lat("Saada") == lat("saadah") == lat("Sa’da") == "sada"
    assert lat("Hodeidah") == lat("Al Hudaydah") == lat("al-Hudaydah")
    assert lat("Hadramaut") == lat("Hadramawt") == lat("Ḥaḍramawt")
    assert lat("Ad Dali'") == lat("Al Dhale'e")
    assert lat("Al") == "al"  # a lone word is kept, not dropped as an article


# --- rough extent ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (15.355, 44.206),  # Sana'a
        (12.649, 54.019),  # Hadibu, Socotra
        (12.18, 52.25),  # Abd al-Kuri
        (12.65, 43.41),  # Perim (Mayun)
        (15.35, 42.60),  # Kamaran
        (13.72, 42.72),  # Greater Hanish
        (15.55, 41.83),  # Jabal al-Tair
        (13.32, 43.25),  # Mocha
        (17.29, 49.90),  # Thamud, in the northern desert
        (16.66, 53.05),  # Hawf, by the Omani border
    ],
)
def test_points_in_yemen(lat: float, lon: float) -> None:
    assert gazetteer.point_in_yemen(lat, lon)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (11.59, 43.15),  # Djibouti
        (12.47, 43.42),  # Seven Brothers islands (Djibouti)
        (13.00, 42.74),  # Assab, Eritrea
        (16.89, 42.55),  # Jizan, Saudi Arabia
        (17.02, 54.09),  # Salalah, Oman
        (10.44, 45.01),  # Berbera, Somaliland
        (24.70, 46.70),  # Riyadh
        (44.21, 15.35),  # Sana'a with latitude and longitude swapped
        (0.0, 0.0),
        (95.0, 45.0),  # not a latitude
    ],
)
def test_points_outside_yemen(lat: float, lon: float) -> None:
    assert not gazetteer.point_in_yemen(lat, lon)


def test_importing_the_module_loads_no_data() -> None:
    # (how long the import takes is a benchmark question; this checks that it loads nothing)
    code = (
        "from rasid.registry import gazetteer as g; "
        "assert g._admin.cache_info().currsize == 0 and g._villages.cache_info().currsize == 0; "
        "g.search_places('Aden', kinds={'governorate', 'district'}); "
        "assert g._villages.cache_info().currsize == 0"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
