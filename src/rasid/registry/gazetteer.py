"""Yemen's places: governorates, districts, uzlahs and villages, and a search over their names.

Two sources, read once at first use and cached (nothing is loaded at import):

* ``data/yemen-governorates.csv`` — the 22 first-level divisions with their ISO 3166-2 codes
  and the coordinates of each seat town (GeoNames);
* the package ``yemen-regions-py`` — 22 governorates, 335 districts, 2,234 uzlahs and 41,494
  villages with Arabic and English names and numeric ids. Its ids are kept, as strings, as the
  stable ids of districts, uzlahs and villages. Its governorates are matched to the ISO codes
  by name (:data:`_PACKAGE_GOVERNORATES` lists the spellings that differ).

Villages are loaded separately from the upper levels, the first time a village is asked for
or searched, because they are many: the upper levels load in about 0.15 s, the villages and
their search index in about 0.7 s more. Call :func:`preload` at start-up to pay this up front.

Names are searched in either script, tolerant of the usual transliteration variants
(Sa'dah / Saada / صعدة, Hodeidah / Al Hudaydah / الحديدة): see :func:`normalise_arabic`,
:func:`normalise_latin` and :func:`search_places`.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

from rapidfuzz import fuzz, process

from rasid.core.errors import ConfigError, NotFound, ValidationFailed

PlaceKind = Literal["governorate", "district", "uzlah", "village"]
PLACE_KINDS: tuple[PlaceKind, ...] = ("governorate", "district", "uzlah", "village")
# At equal scores a governorate ranks above a district, above an uzlah, above a village.
_KIND_RANK: dict[str, int] = {kind: rank for rank, kind in enumerate(PLACE_KINDS)}

DATA_DIR = Path(__file__).resolve().parent / "data"
GOVERNORATES_CSV = DATA_DIR / "yemen-governorates.csv"


# --------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class Governorate:
    code: str  # ISO 3166-2, e.g. "YE-SD"
    name_ar: str
    name_en: str
    seat_lat: float
    seat_lon: float
    aliases: tuple[str, ...]  # other spellings, Latin and Arabic, used by the search


@dataclass(frozen=True, slots=True)
class District:
    id: str
    governorate_code: str
    name_ar: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Uzlah:
    id: str
    district_id: str
    governorate_code: str
    name_ar: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Village:
    id: str
    uzlah_id: str
    district_id: str
    governorate_code: str
    name_ar: str
    name_en: str


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    kind: PlaceKind
    id: str  # the ISO code for a governorate, the package id otherwise
    name_ar: str
    name_en: str
    governorate_code: str
    score: float  # 0-100; 100 only when the normalised names are equal


@dataclass(frozen=True, slots=True)
class GovernorateSource:
    """How one governorate of ``yemen-regions-py`` was matched to a row of the CSV."""

    package_id: str
    package_name_en: str
    package_name_ar: str
    code: str


# --------------------------------------------------------------------------------------------
# Governorate names across sources

# The package's English spelling -> ISO 3166-2 code, for every name that is not spelled exactly
# as in the CSV. The other eight (Aden, Amran, Hajjah, Ibb, Sa'dah, Shabwah, Taiz, Abyan) match
# as they are. Each pair is also checked on the Arabic name when the data is loaded.
_PACKAGE_GOVERNORATES: dict[str, str] = {
    "Amant Al-Asmah": "YE-SA",
    "Sanaa": "YE-SN",
    "Al-Hodeidah": "YE-HU",
    "Thamar": "YE-DH",
    "Al-Baidha": "YE-BA",
    "Al-jawf": "YE-JA",
    "Ma'rib": "YE-MA",
    "Hadramot": "YE-HD",
    "Al-Maharah": "YE-MR",
    "Al-Dhale'": "YE-DA",
    "Al-Mahweet": "YE-MW",
    "Lahj": "YE-LA",
    "Raimah": "YE-RA",
    "Socatra": "YE-SU",
}

# Spellings met in ACLED, OCHA, GTD, the press and the package, searched as the governorate.
_ALIASES: dict[str, tuple[str, ...]] = {
    "YE-SA": (
        "Amanat al-Asimah",
        "Amanat Al Asimah",
        "Amant Al-Asmah",
        "Sana'a City",
        "Sanaa City",
        "Sana City",
        "Capital Secretariat",
        "أمانة العاصمة صنعاء",
        "مدينة صنعاء",
    ),
    "YE-SN": ("Sanaa", "Sana", "Sana'a Governorate"),
    "YE-AD": ("'Adan", "Adan"),
    "YE-TA": ("Ta'izz", "Taizz", "Ta'iz"),
    "YE-HU": ("Al-Hodeidah", "Hodeidah", "Hodeida", "Hudaydah", "Al Hudaydah", "Hudayda"),
    "YE-IB": ("Ibb",),
    "YE-DH": ("Thamar", "Dhamar", "Zamar"),
    "YE-HJ": ("Hajja", "Hadjah"),
    "YE-AM": ("'Amran", "Omran"),
    "YE-SD": ("Saada", "Sa'ada", "Saadah", "Sadah", "Sa'da", "Sada"),
    "YE-JA": ("Al-jawf", "Al Jawf", "Jawf", "Al Jouf", "Jouf"),
    "YE-MA": ("Ma'rib", "Marib", "Mareb"),
    "YE-BA": ("Al-Baidha", "Al Bayda'", "Al Baydha", "Al Baida", "Bayda", "Baidha"),
    "YE-DA": ("Al-Dhale'", "Al Dhale'e", "Ad Dali'", "Ad Dali", "Dhale", "Al Dhalea", "Dhala"),
    "YE-LA": ("Lahj", "Lahij", "Lahej"),
    "YE-AB": ("Abyan",),
    "YE-SH": ("Shabwa", "Shabwah", "Shebwa"),
    "YE-HD": ("Hadramot", "Hadramaut", "Hadhramaut", "Hadramawt", "Hadhramawt", "Hadramout"),
    "YE-MR": ("Al-Maharah", "Al Maharah", "Mahrah", "Al Mahra", "Mahra"),
    "YE-MW": ("Al-Mahweet", "Al Mahwit", "Mahwit", "Mahweet"),
    "YE-RA": ("Raimah", "Raymah", "Rayma", "Reimah"),
    "YE-SU": ("Socatra", "Socotra", "Soqotra", "Suqutra", "Sokotra", "أرخبيل سقطرى"),
}


# --------------------------------------------------------------------------------------------
# Name normalisation

_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_ARABIC_MARKS = re.compile(
    "[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]"
)
_ARABIC_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ؤ": "و",
        "ئ": "ي",
        "ء": None,
        "ی": "ي",  # Persian yeh
        "ک": "ك",  # Persian kaf
        "ۀ": "ه",
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Eastern Arabic-Indic digits
    }
)
_ARABIC_NON_WORD = re.compile(r"[^\u0621-\u063a\u0641-\u064a0-9]+")

_APOSTROPHES = re.compile("['\"`\u00b4\u02b9\u02bb\u02bc\u02be\u02bf\u02c8\u2018\u2019\u201b]")
_LATIN_NON_WORD = re.compile(r"[^a-z0-9]+")
_ARTICLES = frozenset(
    {"al", "el", "ul", "ad", "adh", "ar", "as", "ash", "at", "ath", "az", "an", "ed", "es", "et"}
)
# Applied in this order: diphthongs and digraphs first, then single letters.
_LATIN_DIGRAPHS: tuple[tuple[str, str], ...] = (
    ("ai", "ay"),
    ("ei", "ay"),
    ("ey", "ay"),
    ("au", "aw"),
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("ph", "f"),
    ("dh", "d"),
    ("th", "t"),
)
_LATIN_LETTERS = str.maketrans({"q": "k", "c": "k", "o": "u", "e": "i"})
_DOUBLED = re.compile(r"([a-z])\1+")
_FINAL_AH = re.compile(r"ah\b")
_VOWELS = re.compile(r"[aiu]")


def has_arabic(text: str) -> bool:
    return _ARABIC_LETTER.search(text) is not None


def normalise_arabic(text: str) -> str:
    """Fold an Arabic name for comparison.

    Strips diacritics and tatweel, folds أ إ آ ٱ → ا, ة → ه, ى → ي, ؤ → و, ئ → ي, drops ء,
    turns Arabic-Indic digits into ASCII, drops the article ال at the start of each word and
    collapses spaces. Non-Arabic letters are dropped.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLD)
    words = []
    for word in _ARABIC_NON_WORD.sub(" ", text).split():
        if word.startswith("ال") and len(word) > 3:
            word = word[2:]
        words.append(word)
    return " ".join(words)


def normalise_latin(text: str) -> str:
    """Fold a Latin transliteration for comparison.

    Lower-cases, strips accents and apostrophes (' ʿ ʾ ’ `), turns hyphens and punctuation into
    spaces, drops the article (al-, el-, ad-, as-, ash- …) before a word, then folds the
    spellings that vary between conventions: ai/ei/ey → ay, au → aw, ou/oo → u, ee → i,
    dh → d, th → t, q → k, c → k, o → u, e → i, doubled letters → one, and a final -ah → -a.
    So Sa'dah, Saada and saadah all become ``sada``; Hodeidah and Al Hudaydah ``hudayda``.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _APOSTROPHES.sub("", text.casefold())
    words = _LATIN_NON_WORD.sub(" ", text).split()
    last = len(words) - 1
    text = " ".join(w for i, w in enumerate(words) if i == last or w not in _ARTICLES)
    for old, new in _LATIN_DIGRAPHS:
        text = text.replace(old, new)
    text = _DOUBLED.sub(r"\1", text.translate(_LATIN_LETTERS))
    return _FINAL_AH.sub("a", text)


def _skeleton(latin_normalised: str) -> str:
    """The consonants of a normalised Latin name: matches unvocalised spellings (Al-Mkla)."""
    return _VOWELS.sub("", latin_normalised)


# --------------------------------------------------------------------------------------------
# Loading


@dataclass(frozen=True, slots=True)
class _Admin:
    governorates: tuple[Governorate, ...]
    governorate_by_code: dict[str, Governorate]
    sources: tuple[GovernorateSource, ...]
    districts: tuple[District, ...]
    district_by_id: dict[str, District]
    districts_by_governorate: dict[str, tuple[District, ...]]
    uzlahs: tuple[Uzlah, ...]
    uzlah_by_id: dict[str, Uzlah]
    uzlahs_by_district: dict[str, tuple[Uzlah, ...]]


@dataclass(frozen=True, slots=True)
class _Villages:
    villages: tuple[Village, ...]
    by_id: dict[str, Village]
    by_uzlah: dict[str, tuple[Village, ...]]


def _package_data() -> dict[str, Any]:
    path = resources.files("yemen_regions_py") / "data" / "yemen-info.json"
    return cast(dict[str, Any], json.loads(path.read_bytes()))


def _package_governorates(raw: dict[str, Any]) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], raw.get("governorates", []))


def _text(value: object) -> str:
    return str(value).strip() if value is not None else ""


def _unique(names: Iterable[str], *exclude: str) -> tuple[str, ...]:
    seen: list[str] = []
    for name in names:
        if name and name not in seen and name not in exclude:
            seen.append(name)
    return tuple(seen)


def _read_csv() -> list[dict[str, str]]:
    with GOVERNORATES_CSV.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _match_governorates(
    rows: Sequence[dict[str, str]], package: Sequence[dict[str, Any]]
) -> list[GovernorateSource]:
    """Pair each package governorate with one CSV row; fail loudly unless it is one-to-one."""
    by_name = {row["name_en"]: row for row in rows}
    by_code = {row["iso_3166_2"]: row for row in rows}
    sources: list[GovernorateSource] = []
    for gov in package:
        name_en, name_ar = _text(gov.get("name_en")), _text(gov.get("name_ar"))
        code = _PACKAGE_GOVERNORATES.get(name_en) or by_name.get(name_en, {}).get("iso_3166_2")
        if code is None or code not in by_code:
            raise ConfigError(f"gazetteer: package governorate {name_en!r} matches no CSV row")
        if normalise_arabic(by_code[code]["name_ar"]) != normalise_arabic(name_ar):
            raise ConfigError(f"gazetteer: {name_en!r} -> {code}: the Arabic names differ")
        sources.append(GovernorateSource(_text(gov.get("id")), name_en, name_ar, code))
    codes = [s.code for s in sources]
    if sorted(codes) != sorted(by_code) or len(set(codes)) != len(codes):
        raise ConfigError("gazetteer: package governorates and CSV rows are not one-to-one")
    return sources


@lru_cache(maxsize=1)
def _admin() -> _Admin:
    rows = _read_csv()
    package = _package_governorates(_package_data())
    sources = _match_governorates(rows, package)
    package_name = {s.code: s.package_name_en for s in sources}

    governorates = tuple(
        Governorate(
            code=row["iso_3166_2"],
            name_ar=row["name_ar"],
            name_en=row["name_en"],
            seat_lat=float(row["seat_lat"]),
            seat_lon=float(row["seat_lon"]),
            aliases=_unique(
                (package_name[row["iso_3166_2"]], *_ALIASES.get(row["iso_3166_2"], ())),
                row["name_en"],
                row["name_ar"],
            ),
        )
        for row in rows
    )
    districts: list[District] = []
    uzlahs: list[Uzlah] = []
    for source, gov in zip(sources, package, strict=True):
        for dist in gov.get("districts", []):
            district = District(
                id=_text(dist.get("id")),
                governorate_code=source.code,
                name_ar=_text(dist.get("name_ar")),
                name_en=_text(dist.get("name_en")),
            )
            districts.append(district)
            for uz in dist.get("uzaal", []):
                uzlahs.append(
                    Uzlah(
                        id=_text(uz.get("id")),
                        district_id=district.id,
                        governorate_code=source.code,
                        name_ar=_text(uz.get("name_ar")),
                        name_en=_text(uz.get("name_en")),
                    )
                )
    districts_by_gov: dict[str, list[District]] = {g.code: [] for g in governorates}
    for district in districts:
        districts_by_gov[district.governorate_code].append(district)
    uzlahs_by_district: dict[str, list[Uzlah]] = {d.id: [] for d in districts}
    for uz in uzlahs:
        uzlahs_by_district[uz.district_id].append(uz)
    return _Admin(
        governorates=governorates,
        governorate_by_code={g.code: g for g in governorates},
        sources=tuple(sources),
        districts=tuple(districts),
        district_by_id={d.id: d for d in districts},
        districts_by_governorate={k: tuple(v) for k, v in districts_by_gov.items()},
        uzlahs=tuple(uzlahs),
        uzlah_by_id={u.id: u for u in uzlahs},
        uzlahs_by_district={k: tuple(v) for k, v in uzlahs_by_district.items()},
    )


@lru_cache(maxsize=1)
def _villages() -> _Villages:
    admin = _admin()
    codes = [s.code for s in admin.sources]
    villages: list[Village] = []
    by_uzlah: dict[str, list[Village]] = {u.id: [] for u in admin.uzlahs}
    for code, gov in zip(codes, _package_governorates(_package_data()), strict=True):
        for dist in gov.get("districts", []):
            district_id = _text(dist.get("id"))
            for uz in dist.get("uzaal", []):
                uzlah_id = _text(uz.get("id"))
                bucket = by_uzlah[uzlah_id]
                for v in uz.get("villages", []):
                    village = Village(
                        id=_text(v.get("id")),
                        uzlah_id=uzlah_id,
                        district_id=district_id,
                        governorate_code=code,
                        name_ar=_text(v.get("name_ar")),
                        name_en=_text(v.get("name_en")),
                    )
                    villages.append(village)
                    bucket.append(village)
    return _Villages(
        villages=tuple(villages),
        by_id={v.id: v for v in villages},
        by_uzlah={k: tuple(v) for k, v in by_uzlah.items()},
    )


def preload(*, villages: bool = True) -> None:
    """Load the gazetteer now (at start-up) rather than on the first request that needs it."""
    _admin()
    for kind in PLACE_KINDS if villages else PLACE_KINDS[:3]:
        _index(kind)


# --------------------------------------------------------------------------------------------
# Look-ups


def governorates() -> list[Governorate]:
    """The 22 governorates (including Amanat Al Asimah and Socotra), in the CSV's order."""
    return list(_admin().governorates)


def governorate(code: str) -> Governorate:
    """The governorate with this ISO 3166-2 code ("YE-SD"; case and spaces are ignored)."""
    found = _admin().governorate_by_code.get(code.strip().upper())
    if found is None:
        raise NotFound("No governorate with code %(value)s.", field="governorate", value=code)
    return found


def districts(governorate_code: str | None = None) -> list[District]:
    """All 335 districts, or those of one governorate."""
    if governorate_code is None:
        return list(_admin().districts)
    return list(_admin().districts_by_governorate[governorate(governorate_code).code])


def district(id: str) -> District:
    found = _admin().district_by_id.get(id.strip())
    if found is None:
        raise NotFound("No district with id %(value)s.", field="district", value=id)
    return found


def uzlahs(district_id: str) -> list[Uzlah]:
    """The uzlahs of a district (a few districts have none in the source)."""
    return list(_admin().uzlahs_by_district[district(district_id).id])


def uzlah(id: str) -> Uzlah:
    found = _admin().uzlah_by_id.get(id.strip())
    if found is None:
        raise NotFound("No uzlah with id %(value)s.", field="uzlah", value=id)
    return found


def villages(uzlah_id: str) -> list[Village]:
    """The villages of an uzlah (some uzlahs have none in the source)."""
    return list(_villages().by_uzlah[uzlah(uzlah_id).id])


def village(id: str) -> Village:
    found = _villages().by_id.get(id.strip())
    if found is None:
        raise NotFound("No village with id %(value)s.", field="village", value=id)
    return found


def governorate_sources() -> list[GovernorateSource]:
    """How each governorate of ``yemen-regions-py`` was matched to an ISO code."""
    return list(_admin().sources)


# --------------------------------------------------------------------------------------------
# Search


@dataclass(frozen=True, slots=True)
class _Place:
    kind: PlaceKind
    id: str
    name_ar: str
    name_en: str
    governorate_code: str


class _Keys:
    """Distinct normalised names of one script, each with the places that carry it."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.owners: list[list[int]] = []
        self.position: dict[str, int] = {}

    def add(self, key: str, place: int) -> None:
        if not key:
            return
        at = self.position.get(key)
        if at is None:
            self.position[key] = len(self.keys)
            self.keys.append(key)
            self.owners.append([place])
        elif self.owners[at][-1] != place:
            self.owners[at].append(place)


# Scores given to matches that are not exact; an exact normalised match alone scores 100.
_FUZZY_CAP = 99.0
_WORDS_FACTOR = 0.9  # all the words of one name found among the other's (token set)
_SKELETON_SCORE = 88.0  # same consonants (Mukalla / Al-Mkla)


class _Index:
    def __init__(self, kind: PlaceKind) -> None:
        self.kind = kind
        self.places: list[_Place] = []
        self.latin = _Keys()
        self.arabic = _Keys()
        self.skeletons: dict[str, list[int]] = {}
        self._seen: dict[str, tuple[bool, str]] = {}  # name -> (is Arabic, normalised)

    def _normalise(self, name: str) -> tuple[bool, str]:
        known = self._seen.get(name)
        if known is None:
            arabic = has_arabic(name)
            known = (arabic, normalise_arabic(name) if arabic else normalise_latin(name))
            self._seen[name] = known
        return known

    def add(self, place: _Place, names: Iterable[str]) -> None:
        at = len(self.places)
        self.places.append(place)
        for name in names:
            if not name:
                continue
            arabic, key = self._normalise(name)
            if arabic:
                self.arabic.add(key, at)
                continue
            self.latin.add(key, at)
            skeleton = _skeleton(key)
            if len(skeleton.replace(" ", "")) >= 3:
                owners = self.skeletons.setdefault(skeleton, [])
                if not owners or owners[-1] != at:
                    owners.append(at)

    def done(self) -> _Index:
        self._seen = {}
        return self

    def scores(
        self, latin: str, arabic: str, *, candidates: int, min_score: float
    ) -> dict[int, float]:
        best: dict[int, float] = {}

        def keep(places: Iterable[int], score: float) -> None:
            for at in places:
                if score > best.get(at, -1.0):
                    best[at] = score

        for query, keys in ((latin, self.latin), (arabic, self.arabic)):
            if not query or not keys.keys:
                continue
            exact = keys.position.get(query)
            if exact is not None:
                keep(keys.owners[exact], 100.0)
            # Edit-distance similarity of the whole names, then word-set similarity (so that
            # "Mukalla" finds "Al-Mokalla City"), scaled down.
            for scorer, factor in ((fuzz.ratio, 1.0), (fuzz.token_set_ratio, _WORDS_FACTOR)):
                for _, score, at in process.extract(
                    query,
                    keys.keys,
                    scorer=scorer,
                    processor=None,
                    limit=candidates,
                    score_cutoff=min(100.0, min_score / factor),
                ):
                    keep(keys.owners[at], min(float(score) * factor, _FUZZY_CAP))
        if latin:
            skeleton = _skeleton(latin)
            if len(skeleton.replace(" ", "")) >= 3 and min_score <= _SKELETON_SCORE:
                keep(self.skeletons.get(skeleton, ()), _SKELETON_SCORE)
        return best


@lru_cache(maxsize=len(PLACE_KINDS))
def _index(kind: PlaceKind) -> _Index:
    index = _Index(kind)
    admin = _admin()
    if kind == "governorate":
        for g in admin.governorates:
            index.add(
                _Place(kind, g.code, g.name_ar, g.name_en, g.code),
                (g.name_en, g.name_ar, *g.aliases),
            )
    elif kind == "district":
        for d in admin.districts:
            index.add(
                _Place(kind, d.id, d.name_ar, d.name_en, d.governorate_code),
                (d.name_en, d.name_ar),
            )
    elif kind == "uzlah":
        for u in admin.uzlahs:
            index.add(
                _Place(kind, u.id, u.name_ar, u.name_en, u.governorate_code),
                (u.name_en, u.name_ar),
            )
    else:
        for v in _villages().villages:
            index.add(
                _Place(kind, v.id, v.name_ar, v.name_en, v.governorate_code),
                (v.name_en, v.name_ar),
            )
    return index.done()


def _id_order(value: str) -> tuple[int, str]:
    return (len(value), value)  # numeric ids in numeric order


def _plain(text: str) -> str:
    return _LATIN_NON_WORD.sub(" ", _APOSTROPHES.sub("", text.casefold())).strip()


def search_places(
    query: str,
    *,
    limit: int = 10,
    kinds: set[str] | None = None,
    min_score: float = 50.0,
) -> list[PlaceMatch]:
    """Find places whose Arabic or English name is like ``query``, best first.

    Names are compared after :func:`normalise_arabic` / :func:`normalise_latin` (Arabic
    queries against Arabic names, Latin against Latin) with rapidfuzz: the edit-distance
    ratio of the whole names, or 0.9 x the word-set ratio ("Mukalla" in "Al-Mokalla City").
    An exact normalised match scores 100 and ranks first; a match on the consonants alone
    (Mukalla / Al-Mkla) scores 88; other matches score at most 99. At equal scores
    governorates rank above districts, above uzlahs, above villages, then the name spelled
    most like the query comes first. ``kinds`` restricts the levels searched (default: all
    four; leaving out "village" avoids loading the villages). Results below ``min_score``
    are left out.
    """
    wanted: tuple[PlaceKind, ...] = PLACE_KINDS
    if kinds is not None:
        unknown = set(kinds) - set(PLACE_KINDS)
        if unknown:
            raise ValidationFailed(
                "Unknown kind of place: %(value)s.", field="kinds", value=", ".join(sorted(unknown))
            )
        wanted = tuple(k for k in PLACE_KINDS if k in kinds)
    if limit <= 0:
        return []
    latin = normalise_latin(query) if _LATIN_LETTER.search(query) else ""
    arabic = normalise_arabic(query) if has_arabic(query) else ""
    if not latin and not arabic:
        return []
    candidates = max(limit * 3, 20)
    found: list[PlaceMatch] = []
    for kind in wanted:
        index = _index(kind)
        scores = index.scores(latin, arabic, candidates=candidates, min_score=min_score)
        for at, score in scores.items():
            p = index.places[at]
            found.append(
                PlaceMatch(p.kind, p.id, p.name_ar, p.name_en, p.governorate_code, round(score, 1))
            )
    # Ties: the higher level first, then the name spelled most like the query.
    plain = _plain(query)

    def closeness(m: PlaceMatch) -> float:
        if arabic and not latin:
            return fuzz.ratio(query.strip(), m.name_ar)
        return fuzz.ratio(plain, _plain(m.name_en))

    found.sort(
        key=lambda m: (-m.score, _KIND_RANK[m.kind], -closeness(m), m.name_en, _id_order(m.id))
    )
    return found[:limit]


def nearest_names(
    query: str, limit: int = 3, *, kinds: set[str] | None = None, min_score: float = 60.0
) -> list[str]:
    """Up to ``limit`` distinct place names like ``query``, for "unknown name, did you mean …".

    Names come in the script of the query (Arabic names for an Arabic query).
    """
    arabic = has_arabic(query)
    names: list[str] = []
    for match in search_places(query, limit=limit * 5, kinds=kinds, min_score=min_score):
        name = (match.name_ar if arabic else match.name_en) or match.name_en or match.name_ar
        if name and name not in names:
            names.append(name)
        if len(names) >= limit:
            break
    return names


# --------------------------------------------------------------------------------------------
# Rough extent of Yemen

# Approximate, deliberately generous outlines as (longitude, latitude) rings: the land border
# (after the Natural Earth outline) pushed out by about 10-30 km, a sea margin of about 20 km
# round the coast including Kamaran, the Hanish islands, Zuqar and Perim, a box round the
# Zubair group and Jabal al-Tair, and a box round the Socotra archipelago (Socotra, Abd al-Kuri,
# Samhah, Darsah). Drawn to keep out the Eritrean and Djiboutian coasts at Bab el-Mandeb, Jizan
# and Salalah. Good enough to warn about a typing slip (swapped or mistyped coordinates); not a
# boundary, and it says nothing about territorial waters.
_YEMEN_RINGS: tuple[tuple[tuple[float, float], ...], ...] = (
    (  # mainland, with the coastal islands
        (42.55, 16.45),
        (43.05, 16.75),
        (42.98, 17.10),
        (43.30, 17.70),
        (43.80, 17.45),
        (44.05, 17.52),
        (45.20, 17.55),
        (46.35, 17.35),
        (46.75, 17.40),
        (47.00, 17.08),
        (47.40, 17.25),
        (48.10, 18.28),
        (49.08, 18.75),
        (52.02, 19.15),
        (52.92, 17.38),
        (53.28, 16.62),
        (53.20, 16.40),
        (52.45, 15.95),
        (52.40, 15.50),
        (51.25, 14.95),
        (49.65, 14.45),
        (48.70, 13.75),
        (47.95, 13.75),
        (47.40, 13.35),
        (46.70, 13.15),
        (45.60, 13.05),
        (45.20, 12.70),
        (44.95, 12.50),
        (44.20, 12.38),
        (43.48, 12.56),
        (43.33, 12.64),
        (43.05, 13.10),
        (42.50, 13.55),
        (42.50, 14.20),
        (42.70, 14.75),
        (42.40, 15.10),
        (42.45, 15.75),
        (42.60, 16.00),
    ),
    (  # Zubair group and Jabal al-Tair (Red Sea)
        (41.70, 14.80),
        (42.35, 14.80),
        (42.35, 15.75),
        (41.70, 15.75),
    ),
    (  # Socotra archipelago
        (51.90, 11.90),
        (54.70, 11.90),
        (54.70, 12.90),
        (51.90, 12.90),
    ),
)


def _in_ring(lon: float, lat: float, ring: Sequence[tuple[float, float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def point_in_yemen(lat: float, lon: float) -> bool:
    """Roughly: is this point in Yemen, its coastal waters or its islands? (See _YEMEN_RINGS.)"""
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return False
    return any(_in_ring(lon, lat, ring) for ring in _YEMEN_RINGS)
