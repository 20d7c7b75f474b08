"""Demo registry data for ``rasid demo``: incidents, persons, groups, vehicles, vessels, places, links.

Everything is invented: the people are random combinations of common Yemeni given and family
names, the groups, companies and vessels have made-up names, the identifiers are generated.
The places are real (governorates, districts, towns, ports) so that maps and the gazetteer
behave as they will with real data.

Every record is created through :mod:`rasid.registry.service` as one of the demo users, so the
access rules, versions and the audit log apply exactly as for an analyst typing it in:

* most records belong to ``moi-ct`` (written by ``analyst``, or by ``liaison`` when released
  to the partner), maritime ones to ``ycg-ops`` (``watch``), a few to ``partner-embassy``
  (``partner``);
* every TLP marking is used, mostly AMBER and GREEN; part of the AMBER records are released to
  ``partner-embassy`` (and maritime ones between ``moi-ct`` and ``ycg-ops``); the RED ones name
  their recipients;
* a record only involves or links records its writer can see (as the service requires).

The data is generated from ``random.Random(2026)``; incident dates count back from today, so
the dashboard always has recent incidents. :func:`load` does nothing when the demo incidents
are already there (``DEMO-0001``), so ``rasid demo`` may be run twice.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.access.markings import AMBER, AMBER_STRICT, CLEAR, GREEN, RED
from rasid.core.actor import Actor
from rasid.registry import gazetteer, service, taxonomy
from rasid.registry.models import Incident
from rasid.registry.schemas import (
    EntityIn,
    IdentifierIn,
    IncidentIn,
    InvolvementIn,
    LinkIn,
    NameIn,
    SourceIn,
)
from rasid.registry.taxonomy import (
    ACLED_BATTLES,
    ACLED_EXPLOSIONS,
    ACLED_PROTESTS,
    ACLED_RIOTS,
    ACLED_STRATEGIC_DEVELOPMENTS,
    ACLED_VIOLENCE_AGAINST_CIVILIANS,
)

SEED = 2026
REF_PREFIX = "DEMO-"
FIRST_REF = "DEMO-0001"
START = date(2023, 1, 1)
INCIDENTS = 300
# Attacks on shipping in the Red Sea and the Gulf of Aden start in the second half of November 2023.
SHIPPING_ATTACKS_FROM = date(2023, 11, 19)

WRITERS: tuple[str, ...] = ("analyst", "liaison", "watch", "partner")
COUNT_KEYS: tuple[str, ...] = (
    "incidents",
    "persons",
    "groups",
    "vehicles",
    "vessels",
    "places",
    "links",
)
MOI = "moi-ct"
YCG = "ycg-ops"
PARTNER = "partner-embassy"
RED_RECIPIENTS: dict[str, tuple[str, ...]] = {
    MOI: ("analyst", "liaison"),
    YCG: ("watch", "analyst"),
    PARTNER: ("partner", "liaison"),
}
_RANK = {CLEAR: 0, GREEN: 1, AMBER: 2, AMBER_STRICT: 3, RED: 4}

# The person whose Latin spellings the tests (and a demo of the search) look for.
SHOWCASE_PERSON_AR = "عبدالرحمن محمد صالح الشرعبي"
SHOWCASE_QUERY = "Abd al-Rahman Muhammad al-Sharaabi"


# --------------------------------------------------------------------------------------------
# Places


@dataclass(frozen=True)
class Site:
    """A town or stretch of sea where incidents happen, in a gazetteer district."""

    governorate: str
    district_id: str
    name_ar: str
    name_en: str
    lat: float
    lon: float
    sea: str = ""  # "red" (Red Sea, Bab el-Mandeb) or "gulf" (Gulf of Aden, Arabian Sea)


def _sites(governorate: str, *rows: tuple[str, str, str, float, float]) -> tuple[Site, ...]:
    return tuple(Site(governorate, *row) for row in rows)


LAND_SITES: tuple[Site, ...] = (
    *_sites(
        "YE-TA",
        ("215", "مدينة تعز", "Taiz city", 13.578, 44.019),
        ("217", "الحوبان", "Al-Hawban", 13.610, 44.090),
        ("202", "المخا", "Mocha", 13.320, 43.260),
        ("203", "ذباب", "Dhubab", 12.950, 43.430),
        ("211", "التربة", "Al-Turbah", 13.210, 44.120),
        ("201", "مقبنة", "Maqbanah", 13.450, 43.750),
        ("212", "الوازعية", "Al-Wazi'iyah", 13.270, 43.560),
        ("205", "جبل حبشي", "Jabal Habashi", 13.560, 43.900),
    ),
    *_sites(
        "YE-HU",
        ("51", "مدينة الحديدة", "Hodeidah city", 14.800, 42.955),
        ("40", "الخوخة", "Al-Khawkhah", 13.800, 43.250),
        ("41", "الدريهمي", "Ad-Durayhimi", 14.600, 43.070),
        ("60", "حيس", "Hays", 13.930, 43.480),
        ("38", "التحيتا", "At-Tuhayta", 14.000, 43.270),
        ("37", "بيت الفقيه", "Bayt al-Faqih", 14.520, 43.320),
        ("43", "زبيد", "Zabid", 14.200, 43.320),
        ("56", "الصليف", "As-Salif", 15.310, 42.690),
    ),
    *_sites(
        "YE-MA",
        ("236", "مدينة مأرب", "Marib city", 15.463, 45.326),
        ("241", "صرواح", "Sirwah", 15.450, 45.020),
        ("244", "الجوبة", "Al-Jubah", 15.170, 45.300),
        ("237", "حريب", "Harib", 14.930, 45.500),
        ("240", "رغوان", "Raghwan", 15.800, 45.200),
        ("235", "مدغل", "Medghal", 15.650, 45.150),
    ),
    *_sites(
        "YE-BA",
        ("161", "مدينة البيضاء", "Al-Bayda city", 13.985, 45.573),
        ("180", "رداع", "Rada'a", 14.420, 44.840),
        ("169", "الصومعة", "As-Sawma'ah", 13.950, 45.230),
        ("172", "القريشية", "Al-Qurayshiyah", 14.300, 45.050),
        ("175", "مكيراس", "Mukayras", 13.930, 45.700),
        ("179", "ولد ربيع", "Walad Rabi'", 14.370, 45.120),
    ),
    *_sites(
        "YE-SD",
        ("155", "مدينة صعدة", "Sa'dah city", 16.940, 43.764),
        ("149", "باقم", "Baqim", 17.380, 43.620),
        ("151", "رازح", "Razih", 16.920, 43.430),
        ("158", "كتاف", "Kitaf", 17.020, 44.200),
        ("154", "شداء", "Shada'a", 16.980, 43.300),
        ("153", "سحار", "Sahar", 16.980, 43.700),
    ),
    *_sites(
        "YE-DA",
        ("288", "مدينة الضالع", "Ad Dali' city", 13.696, 44.731),
        ("292", "قعطبة", "Qa'tabah", 13.850, 44.700),
        ("291", "دمت", "Damt", 14.100, 44.730),
        ("284", "الأزارق", "Al-Azariq", 13.640, 44.560),
        ("285", "الحشاء", "Al-Hasha", 13.770, 44.450),
    ),
    *_sites(
        "YE-LA",
        ("303", "الحوطة", "Al-Hawtah", 13.057, 44.882),
        ("310", "تبن", "Tuban", 13.000, 44.920),
        ("314", "طور الباحة", "Tur al-Bahah", 13.010, 44.350),
        ("306", "رأس العارة", "Ras al-Ara", 12.670, 43.990),
        ("313", "ردفان", "Radfan", 13.580, 44.960),
        ("315", "يافع", "Yafa'", 13.560, 45.180),
    ),
    *_sites(
        "YE-AB",
        ("334", "زنجبار", "Zinjibar", 13.129, 45.381),
        ("335", "جعار", "Ja'ar", 13.220, 45.300),
        ("335", "شقرة", "Shuqrah", 13.360, 45.700),
        ("328", "لودر", "Lawdar", 13.880, 45.870),
        ("325", "مودية", "Mudiyah", 13.930, 46.080),
        ("333", "أحور", "Ahwar", 13.520, 46.720),
        ("326", "المحفد", "Al-Mahfad", 14.050, 46.300),
    ),
    *_sites(
        "YE-SH",
        ("191", "عتق", "Ataq", 14.538, 46.832),
        ("196", "عزان", "Azzan", 14.170, 47.120),
        ("182", "بيحان", "Bayhan", 14.800, 45.720),
        ("188", "بلحاف", "Balhaf", 14.000, 48.180),
        ("197", "نصاب", "Nisab", 14.520, 46.380),
        ("184", "حبان", "Habban", 14.350, 47.080),
        ("193", "عسيلان", "Usaylan", 14.930, 45.860),
    ),
    *_sites(
        "YE-AD",
        ("36", "المعلا", "Al-Mu'alla", 12.790, 44.990),
        ("34", "خور مكسر", "Khor Maksar", 12.830, 45.030),
        ("31", "المنصورة", "Al-Mansura", 12.860, 44.980),
        ("30", "الشيخ عثمان", "Sheikh Othman", 12.870, 45.010),
        ("29", "دار سعد", "Dar Sa'd", 12.905, 44.985),
        ("32", "البريقة", "Al-Buraiqa", 12.760, 44.890),
        ("35", "كريتر", "Crater", 12.780, 45.040),
    ),
    *_sites(
        "YE-HD",
        ("274", "مدينة المكلا", "Al-Mukalla city", 14.542, 49.124),
        ("261", "الشحر", "Ash-Shihr", 14.760, 49.610),
        ("256", "سيئون", "Seiyun", 15.940, 48.790),
        ("257", "تريم", "Tarim", 16.050, 49.000),
        ("254", "شبام", "Shibam", 15.930, 48.630),
        ("253", "القطن", "Al-Qatn", 15.840, 48.450),
        ("252", "العبر", "Al-Abr", 16.130, 47.230),
        ("263", "غيل باوزير", "Ghayl Ba Wazir", 14.780, 49.370),
    ),
    *_sites(
        "YE-SA",
        ("4", "السبعين", "As-Sab'in", 15.330, 44.200),
        ("5", "شعوب", "Shu'ub", 15.370, 44.220),
        ("9", "معين", "Ma'in", 15.360, 44.180),
        ("1", "صنعاء القديمة", "Old Sana'a", 15.355, 44.214),
    ),
    *_sites(
        "YE-SN",
        ("20", "بني حشيش", "Bani Hushaysh", 15.380, 44.330),
        ("27", "نهم", "Nihm", 15.650, 44.650),
        ("14", "أرحب", "Arhab", 15.620, 44.250),
        ("22", "خولان", "Khawlan", 15.250, 44.600),
    ),
    *_sites(
        "YE-IB",
        ("139", "مدينة إب", "Ibb city", 13.967, 44.183),
        ("145", "يريم", "Yarim", 14.300, 44.380),
        ("126", "العدين", "Al-Udayn", 13.970, 43.980),
        ("129", "جبلة", "Jiblah", 13.920, 44.150),
    ),
    *_sites(
        "YE-DH",
        ("74", "مدينة ذمار", "Dhamar city", 14.543, 44.405),
        ("64", "عتمة", "Utmah", 14.450, 43.950),
        ("69", "وصاب العالي", "Wusab al-Ali", 14.300, 43.800),
    ),
    *_sites(
        "YE-HJ",
        ("104", "مدينة حجة", "Hajjah city", 15.694, 43.606),
        ("114", "حرض", "Haradh", 16.410, 43.070),
        ("124", "ميدي", "Midi", 16.320, 42.830),
        ("118", "عبس", "Abs", 16.050, 43.180),
    ),
    *_sites(
        "YE-AM",
        ("90", "مدينة عمران", "Amran city", 15.659, 43.944),
        ("84", "خمر", "Khamir", 15.990, 43.950),
        ("75", "حرف سفيان", "Harf Sufyan", 16.150, 43.950),
    ),
    *_sites(
        "YE-JA",
        ("222", "الحزم", "Al-Hazm", 16.164, 44.777),
        ("229", "الغيل", "Al-Ghayl", 16.050, 44.800),
        ("232", "المطمة", "Al-Matammah", 16.200, 44.600),
        ("224", "خب والشعف", "Khabb wa ash-Sha'f", 16.900, 45.200),
    ),
    *_sites(
        "YE-MW",
        ("299", "مدينة المحويت", "Al-Mahwit city", 15.470, 43.545),
        ("300", "شبام كوكبان", "Shibam Kawkaban", 15.500, 43.900),
    ),
    *_sites(
        "YE-RA",
        ("319", "الجبين", "Al-Jabin", 14.704, 43.599),
        ("317", "بلاد الطعام", "Bilad at-Ta'am", 14.620, 43.680),
    ),
    *_sites(
        "YE-MR",
        ("280", "الغيضة", "Al-Ghaydah", 16.208, 52.176),
        ("279", "شحن", "Shahan", 17.770, 52.500),
        ("277", "حوف", "Hawf", 16.650, 53.050),
        ("281", "قشن", "Qishn", 15.430, 51.680),
    ),
    *_sites(
        "YE-SU",
        ("323", "حديبو", "Hadibu", 12.649, 54.019),
        ("324", "قلنسية", "Qalansiyah", 12.680, 53.490),
    ),
)

SEA_SITES: tuple[Site, ...] = (
    Site("YE-HU", "57", "قبالة ميناء الحديدة", "off Hodeidah port", 14.860, 42.800, "red"),
    Site("YE-HU", "56", "قبالة رأس عيسى والصليف", "off Ras Isa and Salif", 15.200, 42.560, "red"),
    Site("YE-HU", "39", "قبالة جزيرة كمران", "off Kamaran island", 15.350, 42.510, "red"),
    Site("YE-HU", "40", "قبالة سواحل الخوخة", "off Al-Khawkhah", 13.800, 43.120, "red"),
    Site("YE-HU", "42", "قبالة سواحل اللحية", "off Al-Luhayyah", 15.700, 42.620, "red"),
    Site("YE-TA", "202", "قبالة سواحل المخا", "off Mocha", 13.320, 43.130, "red"),
    Site(
        "YE-TA",
        "203",
        "في مضيق باب المندب قبالة ذباب",
        "in Bab el-Mandeb off Dhubab",
        12.850,
        43.380,
        "red",
    ),
    Site("YE-LA", "306", "قبالة رأس العارة", "off Ras al-Ara", 12.580, 43.950, "red"),
    Site(
        "YE-AD",
        "33",
        "في خليج عدن قبالة التواهي",
        "in the Gulf of Aden off Tawahi",
        12.720,
        44.950,
        "gulf",
    ),
    Site("YE-AB", "335", "قبالة سواحل شقرة", "off Shuqrah", 13.290, 45.750, "gulf"),
    Site("YE-AB", "333", "قبالة سواحل أحور", "off Ahwar", 13.420, 46.750, "gulf"),
    Site("YE-SH", "188", "قبالة بلحاف وبئر علي", "off Balhaf and Bir Ali", 13.920, 48.200, "gulf"),
    Site("YE-HD", "274", "قبالة ميناء المكلا", "off Mukalla port", 14.450, 49.180, "gulf"),
    Site("YE-HD", "261", "قبالة سواحل الشحر", "off Ash-Shihr", 14.680, 49.620, "gulf"),
    Site("YE-MR", "280", "قبالة ميناء نشطون", "off Nishtun port", 15.770, 52.260, "gulf"),
    Site("YE-SU", "323", "قبالة حديبو في سقطرى", "off Hadibu, Socotra", 12.720, 54.020, "gulf"),
)

# How many incidents each governorate gets, roughly (every one gets at least one).
GOVERNORATE_WEIGHTS: dict[str, int] = {
    "YE-TA": 40,
    "YE-HU": 38,
    "YE-MA": 26,
    "YE-BA": 20,
    "YE-AB": 20,
    "YE-HD": 20,
    "YE-SD": 18,
    "YE-LA": 18,
    "YE-SH": 18,
    "YE-AD": 18,
    "YE-DA": 16,
    "YE-HJ": 9,
    "YE-SA": 8,
    "YE-IB": 8,
    "YE-JA": 8,
    "YE-SN": 6,
    "YE-DH": 5,
    "YE-AM": 4,
    "YE-MR": 4,
    "YE-MW": 2,
    "YE-RA": 2,
    "YE-SU": 2,
}
# Share of a coastal governorate's incidents that happen at sea.
SEA_SHARE: dict[str, float] = {
    "YE-HU": 0.35,
    "YE-TA": 0.12,
    "YE-LA": 0.22,
    "YE-AD": 0.15,
    "YE-AB": 0.15,
    "YE-SH": 0.15,
    "YE-HD": 0.2,
    "YE-MR": 0.4,
    "YE-SU": 0.5,
}
FRONT_LINES = frozenset(
    {"YE-TA", "YE-DA", "YE-MA", "YE-HU", "YE-SD", "YE-BA", "YE-LA", "YE-HJ", "YE-JA"}
)
# Where the partner's embassy office reports incidents itself.
PARTNER_GOVERNORATES = frozenset({"YE-AD", "YE-HD", "YE-MA", "YE-SA"})
CITIES = frozenset(
    {"YE-AD", "YE-HD", "YE-TA", "YE-LA", "YE-AB", "YE-SH", "YE-MR", "YE-SU", "YE-MA", "YE-IB"}
)
LANDMARKS: tuple[tuple[str, str], ...] = (
    ("السوق المركزي", "the central market"),
    ("المدخل الشمالي", "the northern entrance"),
    ("المدخل الجنوبي", "the southern entrance"),
    ("الخط العام", "the main road"),
    ("جولة المدينة", "the town roundabout"),
    ("نقطة التفتيش الرئيسية", "the main checkpoint"),
    ("محطة الوقود", "the fuel station"),
    ("الحي القديم", "the old quarter"),
    ("مبنى السلطة المحلية", "the local-authority building"),
    ("الطريق الدائري", "the ring road"),
)


# --------------------------------------------------------------------------------------------
# Names: Arabic parts and their Latin spellings

MALE_NAMES: dict[str, tuple[str, ...]] = {
    "محمد": ("Mohammed", "Muhammad", "Mohamed", "Mohammad"),
    "أحمد": ("Ahmed", "Ahmad"),
    "علي": ("Ali",),
    "عبدالله": ("Abdullah", "Abdallah", "Abd Allah", "Abdulla"),
    "صالح": ("Saleh", "Salih"),
    "حسين": ("Hussein", "Hussain", "Husain"),
    "حسن": ("Hassan", "Hasan"),
    "عبدالرحمن": ("Abdulrahman", "Abdul Rahman", "Abdelrahman", "Abd al-Rahman"),
    "ناصر": ("Nasser", "Nasir", "Naser"),
    "خالد": ("Khaled", "Khalid"),
    "سعيد": ("Saeed", "Said", "Sa'id"),
    "عمر": ("Omar", "Umar"),
    "فؤاد": ("Fuad", "Fouad"),
    "نبيل": ("Nabil", "Nabeel"),
    "منصور": ("Mansour", "Mansur"),
    "قاسم": ("Qasim", "Qassem", "Gasem", "Kassem"),
    "وليد": ("Waleed", "Walid"),
    "ياسر": ("Yasser", "Yasir"),
    "هاني": ("Hani", "Hany"),
    "عادل": ("Adel", "Adil"),
    "جمال": ("Jamal", "Gamal"),
    "توفيق": ("Tawfiq", "Tawfeek", "Tofik"),
    "رشاد": ("Rashad",),
    "عبده": ("Abdo", "Abduh"),
    "حمود": ("Hamoud", "Hamood", "Hamud"),
    "مهدي": ("Mahdi", "Mehdi"),
    "فيصل": ("Faisal", "Faysal"),
    "يحيى": ("Yahya", "Yehia", "Yahia"),
    "إبراهيم": ("Ibrahim", "Ebrahim"),
    "شوقي": ("Shawqi", "Shawki", "Shouqi"),
    "مراد": ("Murad", "Mourad"),
    "بشير": ("Bashir", "Basheer"),
    "عبدالكريم": ("Abdulkarim", "Abdul Karim", "Abdelkarim"),
    "عبدالقادر": ("Abdulqader", "Abdelkader", "Abdul Qadir"),
    "سالم": ("Salem", "Salim"),
    "عوض": ("Awad", "Awadh"),
    "صلاح": ("Salah", "Salaah"),
    "مختار": ("Mukhtar", "Mokhtar"),
    "أنيس": ("Anis", "Anees"),
    "طارق": ("Tariq", "Tarek", "Tareq"),
    "زياد": ("Ziad", "Ziyad"),
    "عبدالولي": ("Abdulwali", "Abdul Wali"),
    "أمين": ("Amin", "Ameen"),
    "سلطان": ("Sultan",),
    "فهد": ("Fahd", "Fahad"),
    "عبدالحكيم": ("Abdulhakim", "Abdul Hakim"),
    "مبارك": ("Mubarak", "Mobarak"),
    "عيسى": ("Eisa", "Issa", "Isa"),
    "يوسف": ("Yousef", "Yusuf", "Youssef"),
    "مصطفى": ("Mustafa", "Mostafa"),
    "عبدالعزيز": ("Abdulaziz", "Abdul Aziz"),
    "ماجد": ("Majed", "Majid"),
}
FEMALE_NAMES: dict[str, tuple[str, ...]] = {
    "فاطمة": ("Fatima", "Fatma", "Fatimah"),
    "سعاد": ("Suad", "Souad"),
    "نجلاء": ("Najla", "Najlaa"),
    "أروى": ("Arwa",),
    "منى": ("Mona", "Muna"),
    "خديجة": ("Khadija", "Khadeeja"),
    "سميرة": ("Samira", "Sameera"),
    "أسماء": ("Asma", "Asmaa"),
}
# Family names and nisba-style laqabs; the Latin article (al-, Al-, Al …) is added when writing.
FAMILY_NAMES: dict[str, tuple[str, ...]] = {
    "الشرعبي": ("Sharabi", "Shar'abi", "Sharaabi"),
    "الصبري": ("Sabri", "Sabry"),
    "القدسي": ("Qudsi", "Gudsi", "Kudsi"),
    "الوصابي": ("Wasabi", "Wassabi"),
    "العمري": ("Amri", "Omari"),
    "الحميري": ("Himyari", "Hemyari", "Humairi"),
    "الكثيري": ("Kathiri", "Katheeri"),
    "باوزير": ("Bawazir", "Ba Wazir", "Bawazeer"),
    "بامطرف": ("Bamatraf", "Ba-Matraf"),
    "باحميش": ("Bahamish", "Ba Hamish"),
    "العامري": ("Amiri", "Ameri"),
    "السقاف": ("Saqqaf", "Sakkaf", "Saggaf"),
    "الجعدني": ("Jaadani", "Ja'dani"),
    "الشعيبي": ("Shuaibi", "Shoaibi", "Shu'aibi"),
    "اليافعي": ("Yafei", "Yafai", "Yafa'i"),
    "المرادي": ("Muradi", "Mouradi"),
    "الجهمي": ("Jahmi",),
    "السعيدي": ("Saeedi", "Saidi"),
    "الحدادي": ("Haddadi",),
    "البيحاني": ("Bayhani", "Baihani", "Beihani"),
    "الكلدي": ("Kaldi",),
    "الأهدل": ("Ahdal",),
    "الجرادي": ("Jaradi", "Garadi"),
    "العزي": ("Azzi",),
    "المطري": ("Matari", "Mattari"),
    "الحاشدي": ("Hashidi", "Hashedi"),
    "البكيلي": ("Bakili", "Bakeeli"),
    "الخولاني": ("Khawlani", "Khaulani"),
    "الهمداني": ("Hamdani",),
    "الجابري": ("Jabri", "Jaberi"),
    "التميمي": ("Tamimi", "Tameemi"),
    "الرصابي": ("Rassabi", "Rasabi"),
    "المشولي": ("Mashwali", "Mashouli"),
    "الحبيشي": ("Hubaishi", "Hobeishi"),
    "النهدي": ("Nahdi",),
    "بلعفير": ("Bal'afir", "Belafeer", "Balafir"),
    "باعبود": ("Ba'abboud", "Baaboud", "Ba Abbud"),
    "القباطي": ("Qubati", "Gobati", "Kubati"),
    "الزهيري": ("Zuhairi", "Zoheiri"),
    "البريكي": ("Buraiki", "Boraiki"),
    "العديني": ("Odaini", "Udaini"),
    "الشبواني": ("Shabwani",),
    "الصنعاني": ("Sanaani", "San'ani"),
    "التعزي": ("Taizi", "Ta'izzi"),
    "العدني": ("Adeni", "Adani"),
    "الحضرمي": ("Hadrami", "Hadhrami"),
    "المأربي": ("Maribi", "Ma'ribi"),
}
KUNYAS: tuple[tuple[str, str], ...] = (
    ("أبو علي", "Abu Ali"),
    ("أبو محمد", "Abu Mohammed"),
    ("أبو صالح", "Abu Saleh"),
    ("أبو خالد", "Abu Khaled"),
    ("أبو يوسف", "Abu Yousef"),
    ("أبو عمر", "Abu Omar"),
    ("أبو حسين", "Abu Hussein"),
    ("أبو مراد", "Abu Murad"),
    ("أبو فهد", "Abu Fahd"),
    ("أبو سالم", "Abu Salem"),
    ("أبو زياد", "Abu Ziad"),
    ("أبو طارق", "Abu Tariq"),
)
LAQABS: tuple[tuple[str, str], ...] = (
    ("الطويل", "al-Tawil"),
    ("الصقر", "al-Saqr"),
    ("الحاج", "al-Hajj"),
    ("الذيب", "al-Dheeb"),
    ("القناص", "al-Qannas"),
    ("الأسمر", "al-Asmar"),
    ("الدكتور", "al-Doktor"),
    ("الشايب", "al-Shayib"),
)
# Somali names for the few foreign nationals (written by the partner, Latin first).
SOMALI_PERSONS: tuple[tuple[str, str, str], ...] = (
    ("Abdi Farah Warsame", "عبدي فارح ورسمي", "Abdi Farah Warsama"),
    ("Mohamed Jama Dirie", "محمد جامع ديريه", "Mohamed Jaama Diriye"),
    ("Hassan Ali Egal", "حسن علي عيغال", "Xasan Cali Cigaal"),
)
MOBILE_PREFIXES: tuple[str, ...] = ("77", "73", "71", "70", "78")


# --------------------------------------------------------------------------------------------
# Groups, vehicles, vessels, places


@dataclass(frozen=True)
class GroupSpec:
    key: str
    name_ar: str
    name_en: str
    aliases: tuple[str, ...]
    group_kind: str  # armed_group | network | company | other
    governorates: tuple[str, ...]
    maritime: bool = False
    notes: str = ""


GROUPS: tuple[GroupSpec, ...] = (
    GroupSpec(
        "west_coast",
        "شبكة تهريب الساحل الغربي",
        "West Coast smuggling network",
        ("Shabakat Tahrib al-Sahil al-Gharbi", "شبكة الساحل", "West coast ring"),
        "network",
        ("YE-HU", "YE-TA"),
        maritime=True,
        notes="تهريب أسلحة ووقود ومهاجرين بين سواحل الحديدة والمخا والقرن الأفريقي.",
    ),
    GroupSpec(
        "mandeb",
        "شبكة مضيق باب المندب",
        "Bab el-Mandeb network",
        ("Bab al-Mandab ring", "Mandeb network", "شبكة المضيق"),
        "network",
        ("YE-TA", "YE-LA"),
        maritime=True,
        notes="نقل شحنات بالزوارق السريعة عبر المضيق ليلاً.",
    ),
    GroupSpec(
        "ras_ara",
        "شبكة رأس العارة لتهريب المهاجرين",
        "Ras al-Ara migrant-smuggling network",
        ("Ras Al Arah ring", "شبكة العارة"),
        "network",
        ("YE-LA", "YE-SH", "YE-AB"),
        maritime=True,
        notes="تستقبل قوارب المهاجرين القادمة من جيبوتي والصومال وتنقلهم براً شمالاً.",
    ),
    GroupSpec(
        "shabwa_fuel",
        "شبكة تهريب الوقود في شبوة",
        "Shabwah fuel-smuggling ring",
        ("Shabwa fuel ring", "شبكة الوقود"),
        "network",
        ("YE-SH", "YE-HD", "YE-AB"),
        maritime=True,
    ),
    GroupSpec(
        "mahra_arms",
        "شبكة المهرة لتهريب الأسلحة",
        "Al Mahrah arms-trafficking network",
        ("Eastern corridor network", "Mahra arms ring", "شبكة الشرق"),
        "network",
        ("YE-MR", "YE-HD", "YE-SU"),
        maritime=True,
        notes="تهريب مكونات الطائرات المسيّرة والأسلحة الخفيفة عبر المنافذ البرية والبحرية.",
    ),
    GroupSpec(
        "green_valley",
        "كتائب الوادي الأخضر",
        "Green Valley Brigades",
        ("Kataib al-Wadi al-Akhdar", "كتائب الوادي", "GVB"),
        "armed_group",
        ("YE-BA", "YE-MA", "YE-SH", "YE-AB"),
        notes="جماعة مسلحة تنشط في المناطق الجبلية وتتبنى هجمات بالعبوات الناسفة.",
    ),
    GroupSpec(
        "mountain",
        "سرايا الجبل",
        "Mountain Companies",
        ("Saraya al-Jabal", "سرايا الجبال"),
        "armed_group",
        ("YE-TA", "YE-DA", "YE-LA", "YE-IB", "YE-HU"),
    ),
    GroupSpec(
        "piercing_star",
        "كتيبة النجم الثاقب",
        "Piercing Star Battalion",
        ("Katibat al-Najm al-Thaqib", "النجم الثاقب"),
        "armed_group",
        ("YE-MA", "YE-JA", "YE-SD", "YE-BA", "YE-SN", "YE-HJ", "YE-AM"),
    ),
    GroupSpec(
        "sheikh_othman",
        "خلية الشيخ عثمان",
        "Sheikh Othman cell",
        ("خلية عدن", "Aden cell"),
        "armed_group",
        ("YE-AD", "YE-LA", "YE-AB"),
        notes="خلية اغتيالات تستخدم الدراجات النارية والعبوات اللاصقة.",
    ),
    GroupSpec(
        "hadrami_coast",
        "خلية الساحل الحضرمي",
        "Hadrami coast cell",
        ("Hadramawt coast cell", "خلية الساحل"),
        "armed_group",
        ("YE-HD", "YE-SH"),
    ),
    GroupSpec(
        "tihama_road",
        "عصابة طريق تهامة",
        "Tihama road gang",
        ("Tihama highway gang",),
        "other",
        ("YE-HU", "YE-HJ", "YE-RA", "YE-MW"),
        notes="تقطع ونهب للشاحنات على الطرق الرئيسية.",
    ),
    GroupSpec(
        "abr_road",
        "عصابة خط العبر",
        "Al-Abr highway gang",
        ("Al Abr road gang",),
        "other",
        ("YE-HD", "YE-MA", "YE-JA"),
    ),
    GroupSpec(
        "gulf_waves",
        "شركة أمواج الخليج للنقل البحري",
        "Gulf Waves Marine Transport Co.",
        ("Amwaj al-Khalij Marine Transport", "Gulf Waves Shipping"),
        "company",
        ("YE-AD", "YE-HU"),
        maritime=True,
    ),
    GroupSpec(
        "saqr_exchange",
        "مؤسسة الصقر للصرافة والتحويلات",
        "Al-Saqr Exchange and Remittance",
        ("Saqr Exchange", "Al Sakr Money Exchange"),
        "company",
        ("YE-AD", "YE-TA", "YE-MA"),
    ),
    GroupSpec(
        "golden_ear",
        "شركة السنبلة الذهبية للتجارة العامة",
        "Golden Ear General Trading",
        ("Al-Sunbula al-Dhahabiya Trading", "Golden Ear Trading LLC"),
        "company",
        ("YE-HD", "YE-MR"),
        maritime=True,
    ),
    GroupSpec(
        "red_sea_fishing",
        "شركة البحر الأحمر لخدمات الصيد",
        "Red Sea Fishing Services",
        ("Red Sea Fisheries Services Co.",),
        "company",
        ("YE-HU",),
        maritime=True,
    ),
)
GROUP_BY_KEY = {g.key: g for g in GROUPS}
# How many members each kind of group gets from the random persons.
MEMBERS: dict[str, int] = {"armed_group": 8, "network": 5, "other": 4, "company": 2}


@dataclass(frozen=True)
class VehicleModel:
    make: str
    model: str
    name_ar: str
    kind: str  # car | pickup | bus | truck | motorcycle
    weight: int


VEHICLE_MODELS: tuple[VehicleModel, ...] = (
    VehicleModel("Toyota", "Land Cruiser", "تويوتا لاندكروزر", "car", 5),
    VehicleModel("Toyota", "Hilux", "تويوتا هايلوكس", "pickup", 6),
    VehicleModel("Toyota", "Land Cruiser 79 pick-up", "تويوتا شاص", "pickup", 3),
    VehicleModel("Nissan", "Patrol", "نيسان باترول", "car", 2),
    VehicleModel("Toyota", "Hiace", "تويوتا هايس", "bus", 2),
    VehicleModel("Hyundai", "H-1", "هيونداي H-1", "bus", 1),
    VehicleModel("Mitsubishi", "Canter", "ميتسوبيشي كانتر", "truck", 2),
    VehicleModel("Isuzu", "NPR", "إيسوزو NPR", "truck", 1),
    VehicleModel("Mercedes-Benz", "Actros", "مرسيدس أكتروس", "truck", 1),
    VehicleModel("Toyota", "Corolla", "تويوتا كورولا", "car", 2),
    VehicleModel("Kia", "Sportage", "كيا سبورتاج", "car", 1),
    VehicleModel("Haojue", "HJ150", "دراجة نارية هوجن", "motorcycle", 3),
    VehicleModel("Honda", "CG125", "دراجة نارية هوندا", "motorcycle", 2),
)
# (English, Arabic feminine adjective: سيارة and دراجة are feminine)
COLOURS: tuple[tuple[str, str], ...] = (
    ("white", "بيضاء"),
    ("white", "بيضاء"),
    ("black", "سوداء"),
    ("silver", "فضية"),
    ("grey", "رمادية"),
    ("red", "حمراء"),
    ("blue", "زرقاء"),
    ("beige", "بيج"),
    ("green", "خضراء"),
)
VEHICLES = 25


@dataclass(frozen=True)
class VesselSpec:
    name_ar: str
    name_en: str
    category: str  # dhow | skiff | fishing | merchant | tug
    vessel_type: str
    flag: str  # ISO 3166-1 alpha-2, "" when unknown
    mid: str  # the MMSI's Maritime Identification Digits, "" when the vessel has no MMSI
    group: str = ""
    imo: bool = False


VESSELS: tuple[VesselSpec, ...] = (
    VesselSpec("سنبوق الأمل 3", "AL AMAL 3", "dhow", "dhow (sambuk)", "YE", "473", "west_coast"),
    VesselSpec("جالبوت الخير", "AL KHAIR", "dhow", "dhow (jalibut)", "YE", "475", "mandeb"),
    VesselSpec(
        "سنبوق نسيم البحر", "NASEEM AL BAHR", "dhow", "dhow (sambuk)", "AE", "470", "mahra_arms"
    ),
    VesselSpec(
        "سنبوق البركة 2", "AL BARAKA 2", "dhow", "dhow (sambuk)", "YE", "473", "shabwa_fuel"
    ),
    VesselSpec("جالبوت الفجر", "AL FAJR", "dhow", "dhow (jalibut)", "YE", "475", "golden_ear"),
    VesselSpec("سنبوق مرجان", "MARJAN", "dhow", "dhow (sambuk)", "DJ", "621", "ras_ara"),
    VesselSpec("سنبوق الريان 5", "AL RAYYAN 5", "dhow", "dhow (sambuk)", "YE", "", "west_coast"),
    VesselSpec(
        "زورق فايبر ذباب 14",
        "DHUBAB 14",
        "skiff",
        "skiff (fibreglass, twin outboard)",
        "YE",
        "",
        "mandeb",
    ),
    VesselSpec("قارب الصياد 7", "AL SAYYAD 7", "skiff", "fishing skiff", "YE", "", "west_coast"),
    VesselSpec(
        "زورق سريع رقم 221",
        "FAST SKIFF 221",
        "skiff",
        "skiff (fibreglass, twin outboard)",
        "",
        "",
        "mandeb",
    ),
    VesselSpec("قارب النورس", "AL NAWRAS", "skiff", "fishing skiff", "YE", "", "red_sea_fishing"),
    VesselSpec("قارب الحوت", "AL HOUT", "skiff", "fishing skiff", "YE", ""),
    VesselSpec(
        "زورق رأس العارة 9", "RAS AL ARA 9", "skiff", "skiff (fibreglass)", "YE", "", "ras_ara"
    ),
    VesselSpec(
        "سفينة الصيد سبأ 2", "SABA 2", "fishing", "fishing vessel", "YE", "473", "red_sea_fishing"
    ),
    VesselSpec("بحر العرب 1", "BAHR AL ARAB 1", "fishing", "fishing vessel", "YE", "475"),
    VesselSpec(
        "نجمة الخليج 7",
        "GULF STAR 7",
        "merchant",
        "general cargo",
        "AE",
        "470",
        "gulf_waves",
        imo=True,
    ),
    VesselSpec("ريم البحر", "REEM AL BAHAR", "merchant", "general cargo", "SA", "403", imo=True),
    VesselSpec("وادي النيل 2", "WADI ELNIL 2", "merchant", "general cargo", "EG", "622", imo=True),
    VesselSpec("تاجوراء ستار", "TADJOURA STAR", "merchant", "ro-ro cargo", "DJ", "621", imo=True),
    VesselSpec("مسك", "MISK", "merchant", "product tanker", "AE", "471", "gulf_waves", imo=True),
    VesselSpec("المكلا 3", "AL MUKALLA 3", "tug", "tug", "YE", "473"),
)
CALL_SIGN_PREFIX: dict[str, str] = {"YE": "7O", "AE": "A6", "SA": "HZ", "EG": "SU", "DJ": "J2"}


@dataclass(frozen=True)
class PlaceSpec:
    key: str
    name_ar: str
    name_en: str
    governorate: str
    district_id: str
    lat: float
    lon: float
    public: bool  # a port or market everyone knows (CLEAR/GREEN) rather than a watched spot
    maritime: bool = False


PLACES: tuple[PlaceSpec, ...] = (
    PlaceSpec(
        "hodeidah_port",
        "ميناء الحديدة",
        "Port of Hodeidah",
        "YE-HU",
        "57",
        14.830,
        42.930,
        True,
        True,
    ),
    PlaceSpec(
        "salif_port", "ميناء الصليف", "Port of As-Salif", "YE-HU", "56", 15.310, 42.670, True, True
    ),
    PlaceSpec(
        "mocha_port", "ميناء المخا", "Port of Mocha", "YE-TA", "202", 13.320, 43.240, True, True
    ),
    PlaceSpec(
        "nishtun_port", "ميناء نشطون", "Port of Nishtun", "YE-MR", "280", 15.820, 52.200, True, True
    ),
    PlaceSpec(
        "mukalla_port",
        "ميناء المكلا",
        "Port of Mukalla",
        "YE-HD",
        "274",
        14.520,
        49.150,
        True,
        True,
    ),
    PlaceSpec(
        "mualla_port",
        "ميناء المعلا",
        "Mualla port, Aden",
        "YE-AD",
        "36",
        12.790,
        44.980,
        True,
        True,
    ),
    PlaceSpec(
        "ras_ara_beach",
        "ساحل رأس العارة",
        "Ras al-Ara beach landing site",
        "YE-LA",
        "306",
        12.660,
        43.980,
        False,
        True,
    ),
    PlaceSpec(
        "dhubab_beach",
        "ساحل ذباب",
        "Dhubab beach landing site",
        "YE-TA",
        "203",
        12.950,
        43.410,
        False,
        True,
    ),
    PlaceSpec(
        "khawkhah_fish_market",
        "سوق الخوخة للأسماك",
        "Al-Khawkhah fish market",
        "YE-HU",
        "40",
        13.800,
        43.240,
        True,
        True,
    ),
    PlaceSpec(
        "bab_musa_market",
        "سوق باب موسى",
        "Bab Musa market, Taiz",
        "YE-TA",
        "215",
        13.577,
        44.015,
        True,
    ),
    PlaceSpec(
        "sheikh_othman_market",
        "سوق الشيخ عثمان",
        "Sheikh Othman market",
        "YE-AD",
        "30",
        12.875,
        44.990,
        True,
    ),
    PlaceSpec(
        "alam_checkpoint", "نقطة العلم", "Al-Alam checkpoint", "YE-AD", "34", 12.890, 45.090, False
    ),
    PlaceSpec(
        "falaj_checkpoint",
        "نقطة الفلج",
        "Al-Falaj checkpoint, Marib",
        "YE-MA",
        "236",
        15.470,
        45.300,
        False,
    ),
    PlaceSpec(
        "abr_checkpoint",
        "نقطة تفتيش العبر",
        "Al-Abr checkpoint",
        "YE-HD",
        "252",
        16.130,
        47.230,
        False,
    ),
    PlaceSpec(
        "shahan_crossing",
        "منفذ شحن الحدودي",
        "Shahan border crossing",
        "YE-MR",
        "279",
        17.770,
        52.500,
        True,
    ),
    PlaceSpec(
        "wadiah_crossing",
        "منفذ الوديعة",
        "Al-Wadiah border crossing",
        "YE-HD",
        "252",
        17.050,
        47.110,
        True,
    ),
)


# --------------------------------------------------------------------------------------------
# Incident scenarios: ACLED event and sub-event types with the GTD codes that go with them


@dataclass(frozen=True)
class Scenario:
    key: str
    titles: tuple[str, ...]
    narrative_ar: str
    narrative_en: str
    event_type: str
    sub_event_type: str
    attack: int | None = None
    targets: tuple[int, ...] = ()
    weapon: int | None = None
    toll: str = "none"  # none | single | injured | low | medium | high
    weight: int = 1
    where: frozenset[str] = frozenset()  # governorates allowed (empty: anywhere on land)
    sea: str = ""  # "" on land; "red", "gulf" or "any" at sea
    since: date | None = None
    profile: str = "standard"
    group_kinds: tuple[str, ...] = ()
    group_role: str = "perpetrator"
    group_p: float = 0.0
    person_role: str = ""
    persons: tuple[int, int] = (0, 0)
    victim_p: float = 0.0
    witness_p: float = 0.0
    vehicle_role: str = ""
    vehicle_p: float = 0.0
    vehicle_kinds: frozenset[str] = frozenset()
    suspect_vessels: frozenset[str] = frozenset()
    target_vessels: frozenset[str] = frozenset()
    partner_ok: bool = False


_ARMED = ("armed_group",)
_SMUGGLERS = ("network",)
_ROAD = ("car", "pickup", "bus")
_VICTIM_TARGETS: tuple[tuple[int, str, str], ...] = (
    (2, "مسؤول محلي", "a local official"),
    (15, "إمام مسجد", "a mosque imam"),
    (2, "قاضٍ", "a judge"),
    (10, "صحفي", "a journalist"),
    (14, "ناشط مجتمعي", "a community activist"),
)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "ied_military",
        (
            "انفجار عبوة ناسفة استهدف دورية عسكرية في {place}",
            "عبوة ناسفة تستهدف طقماً عسكرياً على الطريق العام في {place}",
        ),
        "انفجرت عبوة ناسفة زُرعت على جانب الطريق في {where}، لحظة مرور دورية عسكرية، {toll}.",
        "A roadside IED exploded in {where_en}, as a military patrol passed, {toll_en}.",
        ACLED_EXPLOSIONS,
        "Remote explosive/landmine/IED",
        attack=3,
        targets=(4,),
        weapon=6,
        toll="medium",
        weight=14,
        group_kinds=_ARMED,
        group_p=0.55,
        person_role="suspect",
        persons=(0, 2),
        partner_ok=True,
    ),
    Scenario(
        "ied_police",
        ("انفجار عبوة ناسفة بطقم أمني في {place}",),
        "استهدفت عبوة ناسفة طقماً تابعاً لقوات الأمن في {where}، {toll}.",
        "An IED hit a security-forces pick-up in {where_en}, {toll_en}.",
        ACLED_EXPLOSIONS,
        "Remote explosive/landmine/IED",
        attack=3,
        targets=(3,),
        weapon=6,
        toll="low",
        weight=9,
        group_kinds=_ARMED,
        group_p=0.5,
        person_role="suspect",
        persons=(0, 2),
        partner_ok=True,
    ),
    Scenario(
        "sticky_bomb",
        ("اغتيال ضابط أمن بعبوة لاصقة في {place}",),
        "انفجرت عبوة لاصقة مثبتة أسفل سيارة ضابط في جهاز الأمن أثناء توقفها في {where}، {toll}.",
        "A sticky bomb fixed under the car of a security officer exploded while it was parked in "
        "{where_en}, {toll_en}.",
        ACLED_EXPLOSIONS,
        "Remote explosive/landmine/IED",
        attack=1,
        targets=(3,),
        weapon=6,
        toll="single",
        weight=5,
        where=frozenset({"YE-AD", "YE-LA", "YE-AB", "YE-TA", "YE-HD", "YE-SH", "YE-MA"}),
        profile="sensitive",
        group_kinds=_ARMED,
        group_p=0.6,
        person_role="suspect",
        persons=(1, 2),
        victim_p=0.6,
    ),
    Scenario(
        "gunmen_assassination",
        ("اغتيال {target_ar} برصاص مسلحين في {place}",),
        "أطلق مسلحان على متن دراجة نارية النار على {target_ar} أمام منزله في {where}، ولاذا بالفرار، {toll}.",
        "Two gunmen on a motorcycle shot {target_en} outside his home in {where_en}, and fled, {toll_en}.",
        ACLED_VIOLENCE_AGAINST_CIVILIANS,
        "Attack",
        attack=1,
        weapon=5,
        toll="single",
        weight=10,
        where=frozenset({"YE-AD", "YE-LA", "YE-AB", "YE-TA", "YE-HD", "YE-IB", "YE-SA", "YE-DA"}),
        group_kinds=_ARMED,
        group_p=0.4,
        person_role="suspect",
        persons=(0, 2),
        victim_p=0.8,
        witness_p=0.2,
        vehicle_role="suspect",
        vehicle_p=0.5,
        vehicle_kinds=frozenset({"motorcycle"}),
        partner_ok=True,
    ),
    Scenario(
        "checkpoint_attack",
        ("هجوم مسلح على نقطة تفتيش أمنية في {place}",),
        "هاجم مسلحون نقطة تفتيش أمنية في {where}، واشتبكوا مع أفرادها قرابة ساعة، {toll}.",
        "Gunmen attacked a security checkpoint in {where_en}, "
        "and fought its guards for about an hour, {toll_en}.",
        ACLED_BATTLES,
        "Armed clash",
        attack=2,
        targets=(3, 4),
        weapon=5,
        toll="medium",
        weight=10,
        group_kinds=_ARMED,
        group_p=0.6,
        person_role="suspect",
        persons=(0, 3),
        vehicle_role="suspect",
        vehicle_p=0.3,
        vehicle_kinds=frozenset({"pickup", "car"}),
        partner_ok=True,
    ),
    Scenario(
        "suicide_vbied",
        ("هجوم انتحاري بسيارة مفخخة على معسكر في {place}",),
        "فجّر انتحاري سيارة مفخخة عند البوابة الرئيسية لمعسكر في {where}، {toll}.",
        "A suicide bomber detonated a car bomb at the main gate of a military camp in {where_en}, {toll_en}.",
        ACLED_EXPLOSIONS,
        "Suicide bomb",
        attack=3,
        targets=(4,),
        weapon=6,
        toll="high",
        weight=2,
        where=frozenset({"YE-AB", "YE-SH", "YE-AD", "YE-HD", "YE-BA", "YE-LA"}),
        profile="sensitive",
        group_kinds=_ARMED,
        group_p=0.9,
        person_role="perpetrator",
        persons=(1, 1),
        vehicle_role="perpetrator",
        vehicle_p=0.8,
        vehicle_kinds=frozenset({"car", "pickup"}),
        partner_ok=True,
    ),
    Scenario(
        "drone_on_base",
        ("هجوم بطائرة مسيّرة مفخخة على موقع عسكري في {place}",),
        "استهدفت طائرة مسيّرة مفخخة موقعاً عسكرياً في {where}، {toll}.",
        "An explosive-laden drone struck a military position in {where_en}, {toll_en}.",
        ACLED_EXPLOSIONS,
        "Air/drone strike",
        attack=3,
        targets=(4,),
        weapon=6,
        toll="low",
        weight=8,
        where=FRONT_LINES | {"YE-SH", "YE-AB"},
        group_kinds=_ARMED,
        group_p=0.3,
    ),
    Scenario(
        "shelling",
        ("قصف مدفعي على أحياء سكنية في {place}",),
        "سقطت قذائف مدفعية على أحياء سكنية في {where}، {toll}، وتضررت عدة منازل.",
        "Artillery shells landed on residential areas of {where_en}, {toll_en}; several houses were damaged.",
        ACLED_EXPLOSIONS,
        "Shelling/artillery/missile attack",
        toll="low",
        weight=12,
        where=FRONT_LINES,
        profile="public",
        witness_p=0.15,
    ),
    Scenario(
        "kidnap_aid_worker",
        ("اختطاف موظف في منظمة إغاثية في {place}",),
        "اختطف مسلحون موظفاً محلياً يعمل لدى منظمة إغاثية أثناء تنقله في {where}، واقتادوه إلى جهة مجهولة.",
        "Gunmen abducted a local staff member of a relief organisation travelling through "
        "{where_en}, and took him to an unknown location.",
        ACLED_VIOLENCE_AGAINST_CIVILIANS,
        "Abduction/forced disappearance",
        attack=6,
        targets=(12,),
        weapon=5,
        weight=4,
        profile="sensitive",
        group_kinds=("armed_group", "other"),
        group_p=0.5,
        person_role="suspect",
        persons=(0, 2),
        victim_p=0.9,
        vehicle_role="suspect",
        vehicle_p=0.3,
        vehicle_kinds=frozenset(_ROAD),
        partner_ok=True,
    ),
    Scenario(
        "kidnap_trader",
        ("اختطاف تاجر على الطريق العام في {place}",),
        "أوقف مسلحون سيارة تاجر على الطريق العام في {where}، واختطفوه مطالبين بفدية.",
        "Gunmen stopped a trader's car on the main road in {where_en}, and kidnapped him for ransom.",
        ACLED_VIOLENCE_AGAINST_CIVILIANS,
        "Abduction/forced disappearance",
        attack=6,
        targets=(1,),
        weapon=5,
        weight=5,
        group_kinds=("other", "armed_group"),
        group_p=0.5,
        person_role="suspect",
        persons=(0, 2),
        victim_p=0.8,
        vehicle_role="suspect",
        vehicle_p=0.4,
        vehicle_kinds=frozenset(_ROAD),
    ),
    Scenario(
        "cell_arrested",
        ("ضبط خلية مسلحة في {place}", "القبض على عناصر خلية مسلحة في {place}"),
        "نفذت قوات الأمن عملية مداهمة في {where}، وألقت القبض على "
        "{arrested} من المشتبه بانتمائهم إلى خلية مسلحة، وضبطت أسلحة وأجهزة اتصال.",
        "Security forces raided a house in {where_en}, arresting "
        "{arrested_en} suspected members of an armed cell and seizing weapons and radios.",
        ACLED_STRATEGIC_DEVELOPMENTS,
        "Arrests",
        weight=12,
        profile="sensitive",
        group_kinds=_ARMED,
        group_role="suspect",
        group_p=0.8,
        person_role="arrested",
        persons=(2, 4),
        vehicle_role="suspect",
        vehicle_p=0.3,
        vehicle_kinds=frozenset({"car", "pickup", "motorcycle"}),
    ),
    Scenario(
        "weapons_seized",
        ("ضبط شحنة أسلحة مهربة في نقطة تفتيش في {place}",),
        "ضبطت نقطة تفتيش في {where}، شحنة أسلحة وذخائر مخبأة في شاحنة نقل، وأُوقف السائق ومرافقه.",
        "A checkpoint in {where_en}, found weapons and "
        "ammunition hidden in a lorry; the driver and his companion were detained.",
        ACLED_STRATEGIC_DEVELOPMENTS,
        "Disrupted weapons use",
        weight=6,
        group_kinds=_SMUGGLERS,
        group_role="suspect",
        group_p=0.6,
        person_role="arrested",
        persons=(1, 2),
        vehicle_role="suspect",
        vehicle_p=0.9,
        vehicle_kinds=frozenset({"truck", "pickup"}),
    ),
    Scenario(
        "ied_defused",
        ("تفكيك عبوة ناسفة قبل انفجارها في {place}",),
        "تمكن فريق الهندسة من تفكيك عبوة ناسفة زُرعت على الطريق في {where}، قبل انفجارها.",
        "Engineers defused an IED planted on the road in {where_en}, before it went off.",
        ACLED_STRATEGIC_DEVELOPMENTS,
        "Disrupted weapons use",
        weight=5,
        group_kinds=_ARMED,
        group_role="suspect",
        group_p=0.3,
    ),
    Scenario(
        "grenade_shop",
        ("هجوم بقنبلة يدوية على محل تجاري في {place}",),
        "ألقى مجهول قنبلة يدوية على محل تجاري في {where}، {toll}.",
        "An unknown assailant threw a hand grenade at a shop in {where_en}, {toll_en}.",
        ACLED_EXPLOSIONS,
        "Grenade",
        attack=3,
        targets=(1,),
        weapon=6,
        toll="injured",
        weight=5,
        person_role="suspect",
        persons=(0, 1),
        witness_p=0.3,
        partner_ok=True,
    ),
    Scenario(
        "pipeline",
        ("تفجير أنبوب نفط في {place}",),
        "فجّر مسلحون مجهولون أنبوباً لنقل النفط في {where}، ما أدى إلى توقف الضخ واندلاع حريق.",
        "Unidentified gunmen blew up an oil pipeline in {where_en}, halting pumping and starting a fire.",
        ACLED_EXPLOSIONS,
        "Remote explosive/landmine/IED",
        attack=7,
        targets=(1,),
        weapon=6,
        weight=6,
        where=frozenset({"YE-MA", "YE-SH", "YE-HD"}),
        group_kinds=_ARMED,
        group_p=0.3,
        partner_ok=True,
    ),
    Scenario(
        "power_pylon",
        ("تخريب برج لنقل الطاقة الكهربائية في {place}",),
        "أقدم مخربون على قطع أسلاك برج لنقل الطاقة الكهربائية وإسقاطه في {where}، ما أدى إلى انقطاع التيار عن عدة مديريات.",
        "Saboteurs cut the cables of a power-transmission pylon and brought it down in "
        "{where_en}, cutting electricity to several districts.",
        ACLED_STRATEGIC_DEVELOPMENTS,
        "Looting/property destruction",
        attack=7,
        targets=(21,),
        weapon=11,
        weight=4,
        where=frozenset({"YE-MA", "YE-SN", "YE-BA", "YE-LA", "YE-AB", "YE-DH"}),
        profile="public",
    ),
    Scenario(
        "telecom_mast",
        ("إحراق برج اتصالات في {place}",),
        "أضرم مجهولون النار في برج للاتصالات المتنقلة في {where}، ما أدى إلى انقطاع الخدمة.",
        "Unknown persons set fire to a mobile-telephone mast in {where_en}, cutting the service.",
        ACLED_STRATEGIC_DEVELOPMENTS,
        "Looting/property destruction",
        attack=7,
        targets=(16,),
        weapon=8,
        weight=3,
        profile="public",
    ),
    Scenario(
        "protest_power",
        ("وقفة احتجاجية على انقطاع الكهرباء في {place}",),
        "تظاهر مئات المواطنين في {where}، احتجاجاً على الانقطاع "
        "المتكرر للتيار الكهربائي وارتفاع الأسعار.",
        "Hundreds of residents demonstrated in {where_en}, "
        "against repeated power cuts and rising prices.",
        ACLED_PROTESTS,
        "Peaceful protest",
        weight=7,
        where=CITIES,
        profile="public",
        partner_ok=True,
    ),
    Scenario(
        "protest_salaries",
        ("احتجاج للمطالبة بصرف الرواتب في {place}",),
        "نظّم موظفون حكوميون ومتقاعدون وقفة احتجاجية أمام مبنى السلطة المحلية في {where}، للمطالبة بصرف رواتبهم المتأخرة.",
        "Civil servants and pensioners protested outside the local-authority building in "
        "{where_en}, demanding overdue salaries.",
        ACLED_PROTESTS,
        "Peaceful protest",
        weight=5,
        where=CITIES,
        profile="public",
    ),
    Scenario(
        "riot",
        ("مواجهات بين محتجين وقوات الأمن في {place}",),
        "أحرق محتجون إطارات وقطعوا الطرق في {where}، ورشقوا قوات الأمن بالحجارة، {toll}.",
        "Protesters burned tyres, blocked roads in {where_en}, "
        "and threw stones at the security forces, {toll_en}.",
        ACLED_RIOTS,
        "Violent demonstration",
        toll="injured",
        weight=4,
        where=CITIES,
        profile="public",
    ),
    Scenario(
        "tribal_clash",
        ("اشتباكات قبلية مسلحة في {place}",),
        "اندلعت اشتباكات مسلحة بين مسلحين قبليين على خلفية نزاع على أرض في {where}، {toll}.",
        "Armed tribesmen clashed over a land dispute in {where_en}, {toll_en}.",
        ACLED_BATTLES,
        "Armed clash",
        toll="low",
        weight=6,
        where=frozenset({"YE-MA", "YE-BA", "YE-SH", "YE-JA", "YE-AB", "YE-SD", "YE-AM", "YE-SN"}),
        profile="public",
    ),
    Scenario(
        "highway_robbery",
        ("تقطع مسلح ونهب شاحنة على الطريق في {place}",),
        "اعترض مسلحون شاحنة نقل بضائع على الطريق في {where}، "
        "ونهبوا حمولتها بعد الاعتداء على سائقها.",
        "Gunmen stopped a goods lorry on the road in {where_en}, beat the driver and stole the cargo.",
        ACLED_VIOLENCE_AGAINST_CIVILIANS,
        "Attack",
        toll="injured",
        weight=5,
        group_kinds=("other",),
        group_p=0.7,
        person_role="suspect",
        persons=(0, 2),
        victim_p=0.3,
        vehicle_role="target",
        vehicle_p=0.5,
        vehicle_kinds=frozenset({"truck"}),
    ),
    Scenario(
        "training_camp",
        ("رصد معسكر تدريب لجماعة مسلحة قرب {place}",),
        "تفيد المعلومات بإنشاء جماعة مسلحة معسكراً للتدريب في منطقة جبلية قرب {where}، ورصد تحركات لعناصر وآليات في محيطه.",
        "Reporting indicates that an armed group has set up a training camp in the hills near "
        "{where_en}; fighters and vehicles have been seen "
        "around it.",
        ACLED_STRATEGIC_DEVELOPMENTS,
        "Headquarters or base established",
        weight=3,
        where=frozenset({"YE-BA", "YE-MA", "YE-SH", "YE-AB", "YE-JA", "YE-HD"}),
        profile="sensitive",
        group_kinds=_ARMED,
        group_role="suspect",
        group_p=0.9,
        person_role="suspect",
        persons=(0, 2),
        vehicle_role="suspect",
        vehicle_p=0.3,
        vehicle_kinds=frozenset({"pickup"}),
    ),
    # --- at sea ---
    Scenario(
        "suspicious_approach",
        ("اقتراب زوارق مشبوهة من سفينة تجارية {place}",),
        "أبلغ ربان سفينة تجارية عن اقتراب زورقين سريعين على متنهما مسلحون إلى مسافة نحو ميل بحري "
        "من السفينة {place}، محافظة {gov}، قبل أن يبتعدا بعد إطلاق فريق الحماية طلقات تحذيرية.",
        "The master of a merchant ship reported two fast skiffs with armed men closing to about "
        "one nautical mile {place_en} ({gov_en}); they turned away after the security team fired "
        "warning shots.",
        ACLED_STRATEGIC_DEVELOPMENTS,
        "Other",
        weight=8,
        sea="any",
        profile="maritime",
        suspect_vessels=frozenset({"skiff"}),
        target_vessels=frozenset({"merchant"}),
        partner_ok=True,
    ),
    Scenario(
        "skiff_attack",
        ("إطلاق نار من زورق سريع على سفينة تجارية {place}",),
        "أطلق مسلحون على متن زورق سريع النار على سفينة تجارية {place}، محافظة {gov}، وحاولوا "
        "الصعود إليها قبل أن يتصدى لهم فريق الحماية، {toll}.",
        "Armed men in a fast skiff fired on a merchant ship {place_en} ({gov_en}) and tried to "
        "board her before the security team drove them off, {toll_en}.",
        ACLED_VIOLENCE_AGAINST_CIVILIANS,
        "Attack",
        attack=2,
        targets=(11,),
        weapon=5,
        toll="injured",
        weight=4,
        sea="any",
        profile="maritime",
        group_kinds=_SMUGGLERS,
        group_p=0.3,
        suspect_vessels=frozenset({"skiff"}),
        target_vessels=frozenset({"merchant"}),
        partner_ok=True,
    ),
    Scenario(
        "usv_attack",
        ("انفجار زورق مسيّر مفخخ قرب سفينة تجارية {place}",),
        "انفجر زورق مسيّر محمل بالمتفجرات على مقربة من سفينة تجارية {place}، محافظة {gov}، ما ألحق "
        "أضراراً طفيفة بهيكلها، {toll}.",
        "An explosive-laden uncrewed surface vessel blew up close to a merchant ship {place_en} "
        "({gov_en}), slightly damaging her hull, {toll_en}.",
        ACLED_EXPLOSIONS,
        "Remote explosive/landmine/IED",
        attack=3,
        targets=(11,),
        weapon=6,
        toll="injured",
        weight=3,
        sea="red",
        since=SHIPPING_ATTACKS_FROM,
        profile="maritime",
        target_vessels=frozenset({"merchant"}),
    ),
    Scenario(
        "drone_on_ship",
        ("استهداف سفينة تجارية بطائرة مسيّرة {place}",),
        "أصابت طائرة مسيّرة سفينة تجارية {place}، محافظة {gov}، واندلع حريق محدود على متنها تمكن "
        "الطاقم من إخماده، {toll}.",
        "A drone hit a merchant ship {place_en} ({gov_en}), starting a small fire that the crew "
        "put out, {toll_en}.",
        ACLED_EXPLOSIONS,
        "Air/drone strike",
        attack=3,
        targets=(11,),
        weapon=6,
        toll="injured",
        weight=5,
        sea="any",
        since=SHIPPING_ATTACKS_FROM,
        profile="maritime",
        target_vessels=frozenset({"merchant"}),
        partner_ok=True,
    ),
    Scenario(
        "dhow_arms",
        ("ضبط سنبوق محمل بأسلحة مهربة {place}",),
        "اعترضت دورية لخفر السواحل سنبوقاً {place}، محافظة {gov}، وعثرت على متنه على أسلحة خفيفة "
        "وذخائر ومكونات طائرات مسيّرة مخبأة تحت شحنة أسماك، وأوقفت طاقمه.",
        "A coast-guard patrol intercepted a dhow {place_en} ({gov_en}) and found small arms, "
        "ammunition and drone components hidden under a cargo of fish; the crew were detained.",
        ACLED_STRATEGIC_DEVELOPMENTS,
        "Disrupted weapons use",
        weight=7,
        sea="any",
        profile="sensitive",
        group_kinds=_SMUGGLERS,
        group_role="suspect",
        group_p=0.7,
        person_role="arrested",
        persons=(1, 3),
        suspect_vessels=frozenset({"dhow"}),
    ),
    Scenario(
        "fuel_smuggling",
        ("ضبط قارب لتهريب الوقود {place}",),
        "ضبطت دورية لخفر السواحل قارباً محملاً ببراميل وقود مهرب {place}، محافظة {gov}، وأوقفت من "
        "كانوا على متنه.",
        "A coast-guard patrol seized a boat loaded with drums of smuggled fuel {place_en} "
        "({gov_en}) and detained those aboard.",
        ACLED_STRATEGIC_DEVELOPMENTS,
        "Arrests",
        weight=4,
        sea="gulf",
        profile="maritime",
        group_kinds=_SMUGGLERS,
        group_role="suspect",
        group_p=0.6,
        person_role="arrested",
        persons=(1, 2),
        suspect_vessels=frozenset({"dhow", "skiff"}),
    ),
    Scenario(
        "migrant_boat",
        ("ضبط قارب لتهريب المهاجرين {place}",),
        "اعترض خفر السواحل قارباً يقل عشرات المهاجرين غير النظاميين {place}، محافظة {gov}، وأوقف "
        "المهربين الذين كانوا على متنه.",
        "The coast guard intercepted a boat carrying dozens of irregular migrants {place_en} "
        "({gov_en}) and detained the smugglers aboard.",
        ACLED_STRATEGIC_DEVELOPMENTS,
        "Arrests",
        weight=5,
        where=frozenset({"YE-LA", "YE-TA", "YE-SH", "YE-AB"}),
        sea="any",
        profile="maritime",
        group_kinds=_SMUGGLERS,
        group_role="suspect",
        group_p=0.6,
        person_role="arrested",
        persons=(1, 3),
        suspect_vessels=frozenset({"skiff", "dhow"}),
        partner_ok=True,
    ),
    Scenario(
        "fishing_boat_hijacked",
        ("اختطاف قارب صيد وطاقمه {place}",),
        "استولى مسلحون على قارب صيد {place}، محافظة {gov}، واقتادوه مع طاقمه إلى جهة مجهولة.",
        "Armed men seized a fishing boat {place_en} ({gov_en}) and took her and her crew to an "
        "unknown location.",
        ACLED_VIOLENCE_AGAINST_CIVILIANS,
        "Abduction/forced disappearance",
        attack=4,
        targets=(11,),
        weapon=5,
        weight=3,
        sea="any",
        profile="maritime",
        victim_p=0.5,
        target_vessels=frozenset({"fishing", "skiff"}),
    ),
    Scenario(
        "sea_mine",
        ("رصد لغم بحري عائم {place}",),
        "رصد صيادون لغماً بحرياً عائماً {place}، محافظة {gov}، وتولى فريق متخصص من خفر السواحل "
        "التعامل معه وتفجيره بشكل آمن.",
        "Fishermen spotted a drifting sea mine {place_en} ({gov_en}); a coast-guard team "
        "destroyed it in a controlled explosion.",
        ACLED_STRATEGIC_DEVELOPMENTS,
        "Disrupted weapons use",
        weight=3,
        sea="red",
        profile="public",
        witness_p=0.3,
    ),
)

LAND_SOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("بلاغ غرفة عمليات شرطة محافظة {gov}", ("B2", "A2", "B1", "C2")),
    ("تقرير مصدر بشري موثوق", ("B2", "B3", "C3")),
    ("مصدر بشري جديد لم تُختبر موثوقيته", ("F3", "F6", "E4")),
    ("وسائل إعلام محلية", ("C3", "D3", "C4")),
    ("منشورات على وسائل التواصل الاجتماعي", ("D4", "E5", "F6")),
    ("بيان السلطة المحلية في محافظة {gov}", ("B2", "C2")),
    ("محضر تحقيق مع موقوف", ("B3", "C3")),
    ("تقرير مستشفى في محافظة {gov}", ("A1", "B2")),
    ("تقرير منظمة إنسانية دولية", ("B2", "C3")),
)
SEA_SOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("تقرير دورية خفر السواحل", ("A1", "A2", "B2")),
    ("بلاغ ربان السفينة عبر القناة 16", ("B2", "C2")),
    ("تحذير ملاحي من مركز عمليات التجارة البحرية", ("B2", "A2")),
    ("بيانات نظام التعريف الآلي (AIS)", ("B2", "C2", "B3")),
    ("بلاغ صيادين محليين", ("D3", "E4", "C3")),
)
PARTNER_SOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Embassy security office report", ("B2", "B3")),
    ("Partner naval liaison report", ("A2", "B2")),
    ("Open-source reporting", ("C3", "D3")),
    ("Local staff report", ("C2", "C3")),
)
LINK_EVIDENCE: tuple[tuple[str, str], ...] = (
    ("اعترافات موقوف", "C3"),
    ("تحليل سجلات الاتصالات", "B2"),
    ("مصدر بشري موثوق", "B2"),
    ("وثائق مضبوطة", "A2"),
    ("رصد ميداني", "B3"),
    ("معلومات من جهة شريكة", "B3"),
    ("مصدر بشري جديد", "F3"),
)

# Marking weights by kind of record.
PROFILES: dict[str, tuple[tuple[str, int], ...]] = {
    "standard": ((AMBER, 45), (GREEN, 29), (CLEAR, 10), (AMBER_STRICT, 14), (RED, 2)),
    "public": ((CLEAR, 50), (GREEN, 42), (AMBER, 8)),
    "sensitive": ((AMBER, 48), (AMBER_STRICT, 32), (RED, 6), (GREEN, 14)),
    "maritime": ((AMBER, 45), (GREEN, 30), (CLEAR, 15), (AMBER_STRICT, 8), (RED, 2)),
    "partner": ((AMBER, 55), (GREEN, 33), (CLEAR, 5), (AMBER_STRICT, 5), (RED, 2)),
}


# --------------------------------------------------------------------------------------------
# Bookkeeping of what was created


@dataclass(frozen=True)
class Marking:
    marking: str
    releasable_to: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()


@dataclass
class _Rec:
    """A created record, with what is needed to decide who may see it and how to use it."""

    id: int
    kind: str
    writer: str
    owner: str
    marking: str
    released: frozenset[str]
    recipients: frozenset[str]
    label_ar: str
    label_en: str
    governorates: tuple[str, ...] = ()
    group: str = ""
    category: str = ""  # person: leader, member, victim, witness, crew; vessel/vehicle: its kind
    duplicate: bool = False  # a person entered a second time (for the duplicate review)
    uses: int = 0


@dataclass
class _Person:
    given: str
    father: str
    grandfather: str
    family: str
    female: bool = False
    kunya: tuple[str, str] | None = None
    laqab: tuple[str, str] | None = None
    category: str = "member"
    group: str = ""
    governorate: str = ""
    latin: list[str] = field(default_factory=list)


class _Loader:
    def __init__(self, db: Session, actors: dict[str, Actor]) -> None:
        self.db = db
        self.actors = actors
        self.rng = random.Random(SEED)
        self.today = date.today()
        org_ids = {actors[w].org_id for w in WRITERS}
        slugs = service.owner_slugs(db, {i for i in org_ids if i is not None})
        self.org_of: dict[str, str] = {}
        for writer in WRITERS:
            org_id = actors[writer].org_id
            if org_id is None or org_id not in slugs:
                raise ValueError(f"demo user {writer} belongs to no organisation")
            self.org_of[writer] = slugs[org_id]
        self.counts = dict.fromkeys(COUNT_KEYS, 0)
        self.used_identifiers: set[str] = set()
        self.persons: list[_Rec] = []
        self.groups: dict[str, _Rec] = {}
        self.vehicles: list[_Rec] = []
        self.vessels: list[_Rec] = []
        self.places: dict[str, _Rec] = {}
        self.link_pairs: set[tuple[int, int, str]] = set()
        self.sites_by_gov: dict[str, list[Site]] = {}
        for site in LAND_SITES:
            self.sites_by_gov.setdefault(site.governorate, []).append(site)
        self.sea_by_gov: dict[str, list[Site]] = {}
        for site in SEA_SITES:
            self.sea_by_gov.setdefault(site.governorate, []).append(site)
        self.seats = {g.code: g for g in gazetteer.governorates()}

    # --- helpers ---------------------------------------------------------------------------

    def pick(self, weighted: Sequence[tuple[str, int]]) -> str:
        return self.rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]

    def sees(self, username: str, rec: _Rec) -> bool:
        """The access rule of ``rasid.access`` for the four demo writers (all in the community)."""
        org = self.org_of[username]
        if rec.marking in (CLEAR, GREEN):
            return True
        if rec.marking == AMBER:
            return rec.owner == org or org in rec.released
        if rec.marking == AMBER_STRICT:
            return rec.owner == org
        return username in rec.recipients

    def marking(self, org: str, profile: str, *, maritime: bool = False) -> Marking:
        value = self.pick(PROFILES["partner" if org == PARTNER else profile])
        released: list[str] = []
        if value == AMBER:
            if org == MOI:
                if maritime and self.rng.random() < 0.8:
                    released.append(YCG)
                if self.rng.random() < 0.35:
                    released.append(PARTNER)
            elif org == YCG:
                if self.rng.random() < 0.75:
                    released.append(MOI)
                if self.rng.random() < 0.35:
                    released.append(PARTNER)
            else:
                released.append(MOI)
                if maritime or self.rng.random() < 0.3:
                    released.append(YCG)
        recipients = RED_RECIPIENTS[org] if value == RED else ()
        return Marking(value, tuple(released), recipients)

    def writer_for(self, org: str, marking: Marking) -> str:
        if org == YCG:
            return "watch"
        if org == PARTNER:
            return "partner"
        if PARTNER in marking.releasable_to:
            return "liaison"  # releases to the partner are the liaison officer's
        return "analyst" if self.rng.random() < 0.7 else "liaison"

    def _rec(
        self,
        record_id: int,
        kind: str,
        writer: str,
        marking: Marking,
        label_ar: str,
        label_en: str,
        **extra: object,
    ) -> _Rec:
        recipients = set(marking.recipients)
        if marking.marking == RED:
            recipients.add(writer)
        rec = _Rec(
            record_id,
            kind,
            writer,
            self.org_of[writer],
            marking.marking,
            frozenset(marking.releasable_to),
            frozenset(recipients),
            label_ar,
            label_en,
        )
        for key, value in extra.items():
            setattr(rec, key, value)
        return rec

    def create_entity(
        self,
        writer: str,
        marking: Marking,
        data: EntityIn,
        label_en: str,
        **extra: object,
    ) -> _Rec:
        data.marking = marking.marking
        data.releasable_to = list(marking.releasable_to)
        data.recipients = list(marking.recipients)
        entity, warnings = service.create_entity(self.db, self.actors[writer], data)
        if warnings:
            raise RuntimeError(f"demo record {entity.label!r}: {'; '.join(warnings)}")
        key = {"group": "groups", "place": "places"}.get(data.kind, data.kind + "s")
        self.counts[key] += 1
        return self._rec(
            entity.id,
            data.kind,
            writer,
            marking,
            entity.label_ar or entity.label,
            label_en,
            **extra,
        )

    def unique(self, kind: str, make: Callable[[], str]) -> str:
        """A generated identifier not used yet (identifiers are unique across the demo)."""
        while True:
            value = make()
            key = f"{kind}:{taxonomy.normalise_identifier(kind, value)}"
            if key not in self.used_identifiers:
                self.used_identifiers.add(key)
                return value

    def phone(self) -> str:
        rng = self.rng
        digits = self.unique(
            "phone", lambda: rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}"
        )
        style = rng.randrange(4)
        if style == 0:
            return f"+967 {digits[:3]} {digits[3:6]} {digits[6:]}"
        if style == 1:
            return f"00967{digits}"
        if style == 2:
            return f"0{digits}"
        return f"+967{digits}"

    def point(self, lat: float, lon: float, spread: float) -> tuple[float, float]:
        """A point near (lat, lon), inside the rough outline of Yemen and its waters."""
        for _ in range(30):
            p = (
                round(lat + self.rng.uniform(-spread, spread), 4),
                round(lon + self.rng.uniform(-spread, spread), 4),
            )
            if gazetteer.point_in_yemen(*p):
                return p
        return lat, lon

    # --- latin spellings -----------------------------------------------------------------

    def latin_given(self, name: str) -> str:
        table = FEMALE_NAMES if name in FEMALE_NAMES else MALE_NAMES
        return self.rng.choice(table[name])

    def latin_family(self, name: str) -> str:
        base = self.rng.choice(FAMILY_NAMES[name])
        if not name.startswith("ال"):
            return base
        article = self.rng.choice(("al-", "Al-", "al-", "Al ", "al ", "Al", "el-"))
        if article == "Al":
            return "Al" + base.replace("'", "").lower()
        return article + base

    def latin_names(self, p: _Person, count: int) -> list[str]:
        out: list[str] = []
        shapes = [("g", "f", "gf", "fam"), ("g", "fam"), ("g", "f", "fam")]
        for attempt in range(count * 4):
            shape = shapes[attempt % len(shapes)] if attempt < len(shapes) else shapes[0]
            if len(out) >= count:
                break
            parts: list[str] = []
            for part in shape:
                if part == "g":
                    parts.append(self.latin_given(p.given))
                elif part == "f":
                    parts.append(self.latin_given(p.father))
                elif part == "gf":
                    parts.append(self.latin_given(p.grandfather))
                else:
                    parts.append(self.latin_family(p.family))
            name = " ".join(parts)
            if name not in out:
                out.append(name)
        return out

    # --- places ------------------------------------------------------------------------------

    def load_places(self) -> None:
        for spec in PLACES:
            org = YCG if spec.maritime and spec.key.endswith("_port") else MOI
            if spec.public:
                marking = Marking(self.pick(((CLEAR, 6), (GREEN, 4))))
            else:
                marking = self.marking(org, "standard", maritime=spec.maritime)
                if marking.marking == RED:
                    marking = Marking(AMBER, marking.releasable_to)
            writer = self.writer_for(org, marking)
            data = EntityIn(
                kind="place",
                names=[
                    NameIn(name=spec.name_ar, name_type="as_written"),
                    NameIn(name=spec.name_en, name_type="latin"),
                ],
                gazetteer_kind="district",
                gazetteer_id=spec.district_id,
                governorate_code=spec.governorate,
                lat=spec.lat,
                lon=spec.lon,
            )
            self.places[spec.key] = self.create_entity(
                writer, marking, data, spec.name_en, governorates=(spec.governorate,)
            )

    # --- groups -----------------------------------------------------------------------------

    def load_groups(self) -> None:
        for spec in GROUPS:
            org = MOI
            if spec.key in ("west_coast", "mandeb"):
                org = YCG
            elif spec.key == "golden_ear":
                org = PARTNER
            profile = "sensitive" if spec.group_kind == "armed_group" else "standard"
            marking = self.marking(org, profile, maritime=spec.maritime)
            writer = self.writer_for(org, marking)
            names = [
                NameIn(name=spec.name_ar, name_type="as_written"),
                NameIn(name=spec.name_en, name_type="latin"),
                *(NameIn(name=a, name_type="alias") for a in spec.aliases),
            ]
            data = EntityIn(
                kind="group",
                names=names,
                group_kind=spec.group_kind,
                notes=spec.notes,
                governorate_code=spec.governorates[0],
            )
            self.groups[spec.key] = self.create_entity(
                writer,
                marking,
                data,
                spec.name_en,
                governorates=spec.governorates,
                group=spec.key,
                category=spec.group_kind,
            )

    # --- persons ------------------------------------------------------------------------------

    def new_person(self, category: str, group: str, governorate: str) -> _Person:
        rng = self.rng
        male = list(MALE_NAMES)
        female = category == "witness" and rng.random() < 0.4
        given = rng.choice(list(FEMALE_NAMES)) if female else rng.choice(male)
        father = rng.choice(male)
        while father == given:
            father = rng.choice(male)
        p = _Person(
            given=given,
            father=father,
            grandfather=rng.choice(male),
            family=rng.choice(list(FAMILY_NAMES)),
            female=female,
            category=category,
            group=group,
            governorate=governorate,
        )
        if not female and category in ("leader", "member") and rng.random() < 0.45:
            p.kunya = rng.choice(KUNYAS)
        if category in ("leader", "member") and rng.random() < 0.15:
            p.laqab = rng.choice(LAQABS)
        return p

    def person_plan(self) -> list[_Person]:
        rng = self.rng
        plan: list[_Person] = []
        # The leader of the Mountain Companies, spelt in the tests' and the guide's examples.
        showcase = _Person(
            "عبدالرحمن", "محمد", "صالح", "الشرعبي", kunya=("أبو ياسر", "Abu Yasser"),
            category="leader", group="mountain", governorate="YE-TA",
            latin=["Abdulrahman Mohammed Saleh al-Sharabi", "Abdel Rahman Al-Shar'abi"],
        )  # fmt: skip
        plan.append(showcase)
        for spec in GROUPS:
            size = MEMBERS[spec.group_kind]
            for i in range(size):
                if spec.key == "mountain" and i == 0:
                    continue  # the showcase leads it
                category = "leader" if i == 0 and spec.group_kind != "company" else "member"
                p = self.new_person(category, spec.key, rng.choice(spec.governorates))
                if i > 0 and rng.random() < 0.18:
                    # a brother of an earlier member: same father, grandfather and family
                    kin = rng.choice([q for q in plan if q.group == spec.key] or [p])
                    p.father, p.grandfather, p.family = kin.father, kin.grandfather, kin.family
                    if p.given == kin.given:
                        p.given = rng.choice([n for n in MALE_NAMES if n != kin.given])
                plan.append(p)
        governorates = list(GOVERNORATE_WEIGHTS)
        weights = list(GOVERNORATE_WEIGHTS.values())
        for category, count in (("victim", 18), ("witness", 8), ("crew", 6)):
            for _ in range(count):
                gov = rng.choices(governorates, weights)[0]
                if category == "crew":
                    gov = rng.choice(list(self.sea_by_gov))
                plan.append(self.new_person(category, "", gov))
        return plan

    def person_data(self, p: _Person, *, as_duplicate: bool = False) -> EntityIn:
        rng = self.rng
        if not p.latin:
            p.latin = self.latin_names(p, rng.choice((1, 2, 2, 3)))
        names = [NameIn(name=n, name_type="latin") for n in p.latin]
        if p.kunya:
            names.append(NameIn(name=p.kunya[1], name_type="alias"))
        if p.laqab:
            names.append(NameIn(name=p.laqab[0], name_type="alias"))
            names.append(NameIn(name=p.laqab[1], name_type="alias"))
        identifiers: list[IdentifierIn] = []
        phone_p = {"leader": 0.8, "member": 0.65, "crew": 0.5, "victim": 0.4, "witness": 0.6}
        if rng.random() < phone_p.get(p.category, 0.5):
            for _ in range(rng.choice((1, 1, 1, 2))):
                identifiers.append(IdentifierIn(kind="phone", value=self.phone()))
        if rng.random() < 0.35:
            value = self.unique(
                "national_id", lambda: f"{rng.randint(1, 22):02d}{rng.randrange(10**9):09d}"
            )
            identifiers.append(IdentifierIn(kind="national_id", value=value))
        if rng.random() < 0.15:
            value = self.unique(
                "passport", lambda: f"{rng.choice('0123')}{rng.randrange(10**7):07d}"
            )
            identifiers.append(IdentifierIn(kind="passport", value=value))
        birth: date | None = None
        precision: Literal["day", "year"] | None = None
        if rng.random() < 0.75:
            low, high = (1960, 1985) if p.category in ("victim", "leader") else (1975, 2004)
            birth = date(rng.randint(low, high), rng.randint(1, 12), rng.randint(1, 28))
            precision = "day" if rng.random() < 0.4 else "year"
            if precision == "year":
                birth = birth.replace(month=1, day=1)
        gov = self.seats[p.governorate]
        group = GROUP_BY_KEY.get(p.group)
        notes = {
            "leader": f"يُعتقد أنه قيادي في {group.name_ar}." if group else "",
            "member": f"يُشتبه بانتمائه إلى {group.name_ar}." if group else "",
            "victim": "",
            "witness": "أدلى بإفادة للجهات الأمنية."
            if not p.female
            else "أدلت بإفادة للجهات الأمنية.",
            "crew": "يعمل بحاراً على قوارب الصيد.",
        }[p.category]
        if as_duplicate:
            notes = rng.choice(("أُدخل من بلاغ دورية ميدانية.", "من محضر ضبط.", ""))
        return EntityIn(
            kind="person",
            names=names,
            identifiers=identifiers,
            notes=notes,
            given_name=p.given,
            father_name=p.father,
            grandfather_name=p.grandfather,
            family_name=p.family,
            kunya=p.kunya[0] if p.kunya else "",
            birth_date=birth,
            birth_date_precision=precision,
            birth_place=gov.name_ar if rng.random() < 0.6 else "",
            nationality="YE",
        )

    def load_persons(self) -> None:
        plan = self.person_plan()
        for p in plan:
            maritime = bool(p.group and GROUP_BY_KEY[p.group].maritime) or p.category == "crew"
            org = MOI
            if maritime and self.rng.random() < 0.35:
                org = YCG
            profile = {
                "leader": "sensitive",
                "member": "standard",
                "victim": "standard",
                "witness": "standard",
                "crew": "maritime",
            }[p.category]
            if p is plan[0]:
                marking = Marking(AMBER)  # the showcase: every moi-ct analyst finds it
            else:
                marking = self.marking(org, profile, maritime=maritime)
            writer = "analyst" if p is plan[0] else self.writer_for(org, marking)
            data = self.person_data(p)
            rec = self.create_entity(
                writer,
                marking,
                data,
                p.latin[0],
                governorates=(p.governorate,),
                group=p.group,
                category=p.category,
            )
            self.persons.append(rec)
        self.load_duplicates(plan)
        self.load_partner_persons()

    def arabic_variant(self, p: _Person) -> _Person:
        """The same person as another analyst might type him: other spellings, a part left out."""
        rng = self.rng

        def respell(name: str) -> str:
            if name.startswith("عبدال"):
                return "عبد " + name[3:]
            for old, new in (("إ", "ا"), ("أ", "ا"), ("ى", "ي"), ("ة", "ه")):
                if old in name:
                    return name.replace(old, new)
            return name

        q = _Person(
            respell(p.given), respell(p.father), p.grandfather, p.family,
            kunya=p.kunya, category=p.category, group=p.group, governorate=p.governorate,
        )  # fmt: skip
        if (q.given, q.father) == (p.given, p.father) or rng.random() < 0.5:
            q.grandfather = ""  # entered without the grandfather's name
        if q.family.startswith("ال") and rng.random() < 0.3:
            q.family = q.family[2:]
        q.latin = [
            " ".join(
                (
                    self.latin_given(p.given),
                    self.latin_given(p.father),
                    self.latin_family(p.family),
                )
            )
        ]
        return q

    def load_duplicates(self, plan: list[_Person]) -> None:
        """A few people entered twice, by a different analyst, with other spellings."""
        rng = self.rng
        candidates = [
            (p, rec)
            for p, rec in zip(plan, self.persons, strict=True)
            if rec.owner == MOI and rec.marking in (AMBER, GREEN, CLEAR) and p is not plan[0]
        ]
        chosen = rng.sample(candidates, 5)
        for p, rec in chosen:
            q = self.arabic_variant(p)
            data = self.person_data(q, as_duplicate=True)
            writer = "liaison" if rec.writer == "analyst" else "analyst"
            marking = Marking(AMBER, (PARTNER,) if writer == "liaison" else ())
            self.persons.append(
                self.create_entity(
                    writer,
                    marking,
                    data,
                    q.latin[0],
                    governorates=(q.governorate,),
                    group=q.group,
                    category=q.category,
                    duplicate=True,
                )
            )
        # … and one the partner entered from its own reporting, in Latin letters only.
        taken = {rec.id for _, rec in chosen}
        visible = [p for p, rec in candidates if rec.id not in taken and self.sees("partner", rec)]
        p = rng.choice(visible)
        latin = " ".join(
            (self.latin_given(p.given), self.latin_given(p.father), self.latin_family(p.family))
        )
        data = EntityIn(
            kind="person",
            names=[NameIn(name=latin, name_type="as_written")],
            notes="Reported by a partner source; Arabic spelling not known.",
            nationality="YE",
        )
        self.persons.append(
            self.create_entity(
                "partner",
                Marking(AMBER, (MOI,)),
                data,
                latin,
                governorates=(p.governorate,),
                group=p.group,
                category=p.category,
                duplicate=True,
            )
        )

    def load_partner_persons(self) -> None:
        rng = self.rng
        for latin, arabic, other in SOMALI_PERSONS:
            passport = self.unique("passport", lambda: f"P{rng.randrange(10**7):07d}")
            data = EntityIn(
                kind="person",
                names=[
                    NameIn(name=latin, name_type="as_written"),
                    NameIn(name=other, name_type="latin"),
                    NameIn(name=arabic, name_type="alias"),
                ],
                identifiers=[IdentifierIn(kind="passport", value=passport)],
                nationality="SO",
                birth_date=date(rng.randint(1975, 1995), 1, 1),
                birth_date_precision="year",
                notes="Facilitator on the Horn of Africa - Yemen migrant route.",
            )
            marking = self.marking(PARTNER, "partner", maritime=True)
            self.persons.append(
                self.create_entity(
                    "partner",
                    marking,
                    data,
                    latin,
                    governorates=("YE-LA",),
                    group="ras_ara",
                    category="member",
                )
            )

    # --- vehicles and vessels -----------------------------------------------------------------

    def load_vehicles(self) -> None:
        rng = self.rng
        gangs = [g for g in GROUPS if g.group_kind in ("armed_group", "network", "other")]
        for _ in range(VEHICLES):
            model = rng.choices(VEHICLE_MODELS, [m.weight for m in VEHICLE_MODELS])[0]
            colour_en, colour_ar = rng.choice(COLOURS)
            group = rng.choice(gangs)
            plate = ""
            if model.kind != "motorcycle" or rng.random() < 0.3:
                prefix = {"truck": "نقل ", "bus": "أجرة "}.get(model.kind, "")
                plate = self.unique("plate", partial(self.plate, prefix))
            name_ar = f"{model.name_ar} {colour_ar}"
            name_en = f"{colour_en.capitalize()} {model.make} {model.model}"
            if plate:
                name_ar += f" - لوحة {plate}"
                name_en += f", plate {plate}"
            else:
                name_ar += " بدون لوحة"
                name_en += ", no plate"
            marking = self.marking(MOI, "standard")
            data = EntityIn(
                kind="vehicle",
                names=[
                    NameIn(name=name_ar, name_type="as_written"),
                    NameIn(name=name_en, name_type="latin"),
                ],
                identifiers=[IdentifierIn(kind="plate", value=plate)] if plate else [],
                make=model.make,
                model=model.model,
                colour=colour_en,
                governorate_code=rng.choice(group.governorates),
            )
            self.vehicles.append(
                self.create_entity(
                    self.writer_for(MOI, marking),
                    marking,
                    data,
                    name_en,
                    governorates=group.governorates,
                    group=group.key,
                    category=model.kind,
                )
            )

    def plate(self, prefix: str) -> str:
        return f"{prefix}{self.rng.randint(1000, 99999)}/{self.rng.randint(1, 22)}"

    def mmsi(self, mid: str) -> str:
        return f"{mid}{self.rng.randrange(10**6):06d}"

    def call_sign(self, flag: str) -> str:
        letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
        tail = "".join(self.rng.choice(letters) for _ in range(2))
        return f"{CALL_SIGN_PREFIX[flag]}{tail}{self.rng.randint(2, 9)}"

    def imo(self) -> str:
        def make() -> str:
            six = f"{self.rng.randint(910000, 989999)}"
            check = sum(int(d) * w for d, w in zip(six, range(7, 1, -1), strict=True)) % 10
            return f"{six}{check}"

        return self.unique("imo", make)

    def load_vessels(self) -> None:
        for spec in VESSELS:
            identifiers: list[IdentifierIn] = []
            if spec.mid:
                mmsi = self.unique("mmsi", partial(self.mmsi, spec.mid))
                identifiers.append(IdentifierIn(kind="mmsi", value=mmsi))
            if spec.imo:
                identifiers.append(IdentifierIn(kind="imo", value=f"IMO {self.imo()}"))
            if spec.mid and spec.category in ("merchant", "fishing", "tug"):
                call_sign = self.unique("call_sign", partial(self.call_sign, spec.flag))
                identifiers.append(IdentifierIn(kind="call_sign", value=call_sign))
            if spec.category == "merchant":
                marking = Marking(self.pick(((GREEN, 6), (CLEAR, 4))))
            elif spec.group:
                marking = self.marking(YCG, "maritime")
            else:
                marking = Marking(self.pick(((GREEN, 6), (AMBER, 3), (CLEAR, 1))))
                if marking.marking == AMBER:
                    marking = Marking(AMBER, (MOI,))
            group = GROUP_BY_KEY.get(spec.group)
            notes = ""
            if group and spec.category in ("dhow", "skiff"):
                notes = f"يُشتبه باستخدامه من قبل {group.name_ar}."
            data = EntityIn(
                kind="vessel",
                names=[
                    NameIn(name=spec.name_ar, name_type="as_written"),
                    NameIn(name=spec.name_en, name_type="latin"),
                ],
                identifiers=identifiers,
                flag=spec.flag,
                vessel_type=spec.vessel_type,
                notes=notes,
            )
            self.vessels.append(
                self.create_entity(
                    "watch",
                    marking,
                    data,
                    spec.name_en,
                    governorates=group.governorates if group else (),
                    group=spec.group,
                    category=spec.category,
                )
            )

    # --- links -------------------------------------------------------------------------------------

    def link(
        self, source: _Rec, target: _Rec, link_type: str, *, start: date | None = None
    ) -> None:
        if source.id == target.id:
            return
        key = (source.id, target.id, link_type)
        if key in self.link_pairs:
            return
        candidates = [source.writer, target.writer, "analyst", "liaison", "watch", "partner"]
        writer = next((w for w in candidates if self.sees(w, source) and self.sees(w, target)), "")
        if not writer:
            return
        org = self.org_of[writer]
        top = max(source.marking, target.marking, key=_RANK.__getitem__)
        if top in (CLEAR, GREEN):
            marking = Marking(GREEN) if self.rng.random() < 0.7 else Marking(AMBER)
        elif top == AMBER:
            marking = Marking(AMBER)
        elif top == AMBER_STRICT:
            marking = Marking(AMBER_STRICT)
        else:
            red = [r.recipients for r in (source, target) if r.marking == RED]
            shared = frozenset.intersection(*red)
            marking = Marking(RED, recipients=tuple(sorted(shared - {writer})))
        if marking.marking == AMBER:
            released = tuple(
                slug
                for slug, user in ((MOI, "analyst"), (YCG, "watch"), (PARTNER, "partner"))
                if slug != org
                and self.sees(user, source)
                and self.sees(user, target)
                and self.rng.random() < 0.6
            )
            marking = Marking(AMBER, released)
        if marking.marking == AMBER_STRICT and org not in (source.owner, target.owner):
            marking = Marking(AMBER)
        description, grade = self.rng.choice(LINK_EVIDENCE)
        data = LinkIn(
            source_id=source.id,
            target_id=target.id,
            link_type=link_type,
            start_date=start,
            evidence=description,
            reliability=grade[0],
            credibility=int(grade[1]),
            marking=marking.marking,
            releasable_to=list(marking.releasable_to),
            recipients=list(marking.recipients),
        )
        service.create_link(self.db, self.actors[writer], data)
        self.link_pairs.add(key)
        self.counts["links"] += 1

    def start_date(self) -> date:
        return date(self.rng.randint(2017, 2024), self.rng.randint(1, 12), 1)

    def load_links(self) -> None:
        rng = self.rng
        by_group: dict[str, list[_Rec]] = {}
        for person in self.persons:
            if person.group and not person.duplicate:
                by_group.setdefault(person.group, []).append(person)
        for spec in GROUPS:
            members = by_group.get(spec.key, [])
            group = self.groups[spec.key]
            leaders = [m for m in members if m.category == "leader"]
            for leader in leaders[:1]:
                self.link(leader, group, "leader_of", start=self.start_date())
            others = [m for m in members if m.category != "leader"]
            link_type = "employed_by" if spec.group_kind == "company" else "member_of"
            wanted = 2 if spec.group_kind == "armed_group" else 1
            for member in rng.sample(others, min(len(others), wanted)):
                self.link(member, group, link_type, start=self.start_date())
            # relatives: members who share father, grandfather and family name
            seen: dict[str, _Rec] = {}
            for member in members:
                family = " ".join(member.label_ar.split()[1:])
                if family in seen:
                    self.link(seen[family], member, "relative_of")
                else:
                    seen[family] = member
        people = [p for p in self.persons if p.category in ("leader", "member")]
        for _ in range(7):
            a, b = rng.sample(people, 2)
            if a.group != b.group:
                self.link(a, b, "associate_of", start=self.start_date())
        for _ in range(4):
            a, b = rng.sample(people, 2)
            self.link(a, b, "communicates_with")
        # vehicles: owned by a member of their group, used by the group
        for vehicle in self.vehicles:
            owners = [p for p in by_group.get(vehicle.group, []) if p.category != "leader"]
            if owners and rng.random() < 0.3:
                self.link(rng.choice(owners), vehicle, "owns")
            elif rng.random() < 0.15:
                self.link(self.groups[vehicle.group], vehicle, "uses")
        # vessels: owned by companies, operated and crewed by network members
        for vessel in self.vessels:
            user = self.groups.get(vessel.group)
            if user is None:
                continue
            if user.category == "company":
                self.link(user, vessel, "owns")
                continue
            members = by_group.get(vessel.group, [])
            if members:
                self.link(rng.choice(members), vessel, "operates")
            crew = [p for p in self.persons if p.category == "crew"]
            if vessel.category == "dhow" and crew and rng.random() < 0.6:
                self.link(rng.choice(crew), vessel, "crew_of")
        # where groups and vessels are based
        bases = {
            "west_coast": "khawkhah_fish_market",
            "mandeb": "dhubab_beach",
            "ras_ara": "ras_ara_beach",
            "mahra_arms": "shahan_crossing",
            "gulf_waves": "mualla_port",
            "golden_ear": "nishtun_port",
            "red_sea_fishing": "hodeidah_port",
            "saqr_exchange": "sheikh_othman_market",
        }
        for group_key, place_key in bases.items():
            self.link(self.groups[group_key], self.places[place_key], "located_at")
        self.link(self.groups["saqr_exchange"], self.groups["green_valley"], "funds")
        self.link(self.groups["golden_ear"], self.groups["mahra_arms"], "funds")
        self.link(self.groups["mahra_arms"], self.groups["piercing_star"], "supplies")
        self.link(self.groups["west_coast"], self.groups["mountain"], "supplies")
        self.link(self.groups["green_valley"], self.groups["hadrami_coast"], "allied_with")
        self.link(self.groups["tihama_road"], self.groups["west_coast"], "rival_of")

    # --- incidents ----------------------------------------------------------------------------------

    def incident_date(self) -> date:
        span = (self.today - START).days
        if self.rng.random() < 0.15:
            return self.today - timedelta(days=self.rng.randint(0, 60))
        return START + timedelta(days=self.rng.randint(7, span))

    def governorate_draws(self) -> list[str]:
        codes = list(GOVERNORATE_WEIGHTS)
        draws = list(codes)  # every governorate at least once
        draws += self.rng.choices(
            codes, list(GOVERNORATE_WEIGHTS.values()), k=INCIDENTS - len(codes) - 1
        )
        self.rng.shuffle(draws)
        return draws

    def eligible(self, gov: str, sea: bool, when: date) -> list[Scenario]:
        sites = self.sea_by_gov.get(gov, [])
        out = []
        for s in SCENARIOS:
            if bool(s.sea) != sea or (s.since and when < s.since):
                continue
            if s.where and gov not in s.where:
                continue
            if sea and s.sea != "any" and not any(site.sea == s.sea for site in sites):
                continue
            out.append(s)
        return out

    def load_incidents(self) -> None:
        rng = self.rng
        plans: list[tuple[date, str, bool, Scenario, bool]] = []
        first = next(s for s in SCENARIOS if s.key == "ied_military")
        plans.append((START + timedelta(days=3), "YE-TA", False, first, False))
        for gov in self.governorate_draws():
            when = self.incident_date()
            sea = gov in self.sea_by_gov and rng.random() < SEA_SHARE.get(gov, 0.0)
            scenarios = self.eligible(gov, sea, when)
            if not scenarios:
                sea = False
                scenarios = self.eligible(gov, sea, when)
            scenario = rng.choices(scenarios, [s.weight for s in scenarios])[0]
            # a few land incidents known only to the month (recorded on its first day)
            month = not sea and rng.random() < 0.06 and when.replace(day=1) > plans[0][0]
            plans.append((when.replace(day=1) if month else when, gov, sea, scenario, month))
        order = sorted(range(len(plans)), key=lambda i: (plans[i][0], i))
        for number, i in enumerate(order, start=1):
            when, gov, sea, scenario, month = plans[i]
            ref = f"{REF_PREFIX}{number:04d}"
            self.incident(ref, when, gov, sea, scenario, month=month, first=(i == 0))

    def incident(
        self,
        ref: str,
        when: date,
        gov: str,
        sea: bool,
        scenario: Scenario,
        *,
        month: bool,
        first: bool,
    ) -> None:
        rng = self.rng
        seat = self.seats[gov]
        if sea:
            wanted = scenario.sea
            sites = [s for s in self.sea_by_gov[gov] if wanted == "any" or s.sea == wanted]
            site = rng.choice(sites)
        else:
            site = rng.choice(self.sites_by_gov[gov])
        # who records it
        org = YCG if sea else MOI
        if not first and scenario.partner_ok:
            share = 0.1 if sea else 0.22 if gov in PARTNER_GOVERNORATES else 0.0
            if rng.random() < share:
                org = PARTNER
        profile = "maritime" if sea and scenario.profile == "standard" else scenario.profile
        marking = Marking(GREEN) if first else self.marking(org, profile, maritime=sea)
        writer = "analyst" if first else self.writer_for(org, marking)
        # where, exactly
        district = gazetteer.district(site.district_id)
        precision = 2 if sea else rng.choices((1, 2, 3), (5, 4, 1))[0]
        place_ar, place_en = site.name_ar, site.name_en
        # Amanat al-Asimah (the capital) is not called a محافظة
        gov_ar = seat.name_ar if gov == "YE-SA" else f"محافظة {seat.name_ar}"
        gov_en = seat.name_en if gov == "YE-SA" else f"{seat.name_en} governorate"
        if precision == 3:  # only the governorate is known: its seat, as ACLED does
            lat, lon = self.point(seat.seat_lat, seat.seat_lon, 0.02)
            location_ar, location_en = seat.name_ar, seat.name_en
            district_id = ""
            place_ar, place_en = gov_ar, gov_en
            where_ar, where_en = place_ar, place_en
        else:
            lat, lon = self.point(site.lat, site.lon, 0.06 if sea or precision == 2 else 0.025)
            district_id = site.district_id
            if precision == 1:
                landmark_ar, landmark_en = rng.choice(LANDMARKS)
                location_ar = f"{landmark_ar}، {site.name_ar}"
                location_en = f"{landmark_en}, {site.name_en}"
            else:
                location_ar, location_en = site.name_ar, site.name_en
            a = gazetteer.normalise_arabic(site.name_ar)
            b = gazetteer.normalise_arabic(district.name_ar)
            if a in b or b in a:  # the town gives the district its name
                where_ar = f"{site.name_ar}، {gov_ar}"
                where_en = f"{site.name_en}, {seat.name_en}"
            else:
                where_ar = f"{site.name_ar} بمديرية {district.name_ar}، {gov_ar}"
                where_en = f"{site.name_en}, {district.name_en} district, {seat.name_en}"
        # what happened to whom
        killed, injured = self.toll(scenario.toll)
        target = rng.choice(_VICTIM_TARGETS)
        target_type = target[0] if scenario.key == "gunmen_assassination" else None
        if scenario.targets:
            target_type = rng.choice(scenario.targets)
        involvements, arrested = self.involvements(writer, gov, scenario)
        context = {
            "place": place_ar,
            "place_en": place_en,
            "where": where_ar,
            "where_en": where_en,
            "gov": seat.name_ar,
            "gov_en": seat.name_en,
            "toll": toll_ar(killed, injured),
            "toll_en": toll_en(killed, injured),
            "target_ar": target[1],
            "target_en": target[2],
            "arrested": arrested_ar(arrested),
            "arrested_en": str(arrested) if arrested else "several",
        }
        narrative_ar = scenario.narrative_ar.format(**context)
        groups = {g.id: g for g in self.groups.values()}
        group_rec = next((groups[i.entity_id] for i in involvements if i.entity_id in groups), None)
        if group_rec is not None and scenario.group_role == "perpetrator":
            narrative_ar += f" وتشير المعلومات الأولية إلى تورط عناصر من {group_rec.label_ar}."
        english = org == PARTNER or rng.random() < 0.35
        narrative_en = scenario.narrative_en.format(**context) if english else ""
        if english and group_rec is not None and scenario.group_role == "perpetrator":
            narrative_en += f" Initial reporting points to members of the {group_rec.label_en}."
        event_time = ""
        if rng.random() < 0.6:
            hour = rng.choice((1, 5, 7, 8, 9, 10, 11, 13, 14, 16, 17, 18, 19, 20, 21, 22, 23))
            event_time = f"{hour:02d}:{rng.randrange(0, 60, 5):02d}"
        date_precision: Literal["day", "month"] = "month" if month else "day"
        if month:
            event_time = ""
        data = IncidentIn(
            ref=ref,
            title=rng.choice(scenario.titles).format(**context),
            event_date=when,
            date_precision=date_precision,
            event_time=event_time,
            event_type=scenario.event_type,
            sub_event_type=scenario.sub_event_type,
            attack_type=scenario.attack,
            target_type=target_type if scenario.attack else None,
            weapon_type=scenario.weapon,
            governorate_code=gov,
            district_id=district_id,
            location_name=location_ar,
            lat=lat,
            lon=lon,
            geo_precision=precision,
            fatalities=killed,
            injured=injured,
            narrative_ar=narrative_ar,
            narrative_en=narrative_en,
            sources=self.sources(org, sea, seat.name_ar),
            involvements=involvements,
            marking=marking.marking,
            releasable_to=list(marking.releasable_to),
            recipients=list(marking.recipients),
        )
        _incident, warnings = service.create_incident(self.db, self.actors[writer], data)
        if warnings:
            raise RuntimeError(f"demo incident {ref} ({location_en}): {'; '.join(warnings)}")
        self.counts["incidents"] += 1

    def toll(self, kind: str) -> tuple[int, int]:
        rng = self.rng
        if kind == "single":
            return 1, rng.choice((0, 0, 0, 1))
        if kind == "injured":
            return 0, rng.choice((0, 1, 1, 2, 3))
        if kind == "low":
            return rng.choice((0, 0, 1, 1, 1, 2, 2, 3)), rng.choice((0, 1, 1, 2, 3, 4))
        if kind == "medium":
            if rng.random() < 0.08:
                return rng.randint(8, 25), rng.randint(10, 40)
            return rng.choice((0, 1, 2, 2, 3, 4, 5, 6)), rng.choice((0, 1, 2, 3, 5, 7, 9))
        if kind == "high":
            return rng.randint(8, 40), rng.randint(15, 60)
        return 0, 0

    def sources(self, org: str, sea: bool, gov_ar: str) -> list[SourceIn]:
        pool = PARTNER_SOURCES if org == PARTNER else SEA_SOURCES if sea else LAND_SOURCES
        chosen = self.rng.sample(pool, self.rng.choice((1, 1, 2, 2, 2, 3)))
        out = []
        for description, grades in chosen:
            grade = self.rng.choice(grades)
            out.append(
                SourceIn(
                    description=description.format(gov=gov_ar),
                    reliability=grade[0],
                    credibility=int(grade[1]),
                )
            )
        return out

    def choose(self, pool: Iterable[_Rec], k: int) -> list[_Rec]:
        """Up to k records, preferring those used least so far."""
        items = list(pool)
        self.rng.shuffle(items)
        items.sort(key=lambda r: r.uses)
        picked = items[:k]
        for rec in picked:
            rec.uses += 1
        return picked

    def involvements(self, writer: str, gov: str, s: Scenario) -> tuple[list[InvolvementIn], int]:
        rng = self.rng
        out: list[InvolvementIn] = []
        sees = self.sees

        def add(recs: Iterable[_Rec], role: str) -> None:
            for rec in recs:
                out.append(InvolvementIn(entity_id=rec.id, role=role))

        group: _Rec | None = None
        if s.group_kinds and rng.random() < s.group_p:
            groups = [
                g for g in self.groups.values() if g.category in s.group_kinds and sees(writer, g)
            ]
            local = [g for g in groups if gov in g.governorates]
            if local:
                group = rng.choice(local)
                add([group], s.group_role)
        arrested = 0
        if s.person_role and s.persons[1]:
            wanted = rng.randint(*s.persons)
            people = [
                p
                for p in self.persons
                if p.category in ("leader", "member")
                and sees(writer, p)
                and (p.group == group.group if group else gov in p.governorates)
            ]
            chosen = self.choose(people, wanted)
            add(chosen, s.person_role)
            arrested = len(chosen) if s.person_role == "arrested" else 0
            if s.person_role == "arrested" and not arrested:
                arrested = wanted
        if s.victim_p and rng.random() < s.victim_p:
            category = "crew" if s.sea else "victim"
            victims = [p for p in self.persons if p.category == category and sees(writer, p)]
            fresh = [v for v in victims if v.uses == 0] or victims
            add(self.choose(fresh, 1), "victim")
        if s.witness_p and rng.random() < s.witness_p:
            witnesses = [p for p in self.persons if p.category == "witness" and sees(writer, p)]
            add(self.choose(witnesses, 1), "witness")
        if s.vehicle_role and rng.random() < s.vehicle_p:
            vehicles = [
                v
                for v in self.vehicles
                if v.category in s.vehicle_kinds
                and sees(writer, v)
                and (not group or v.group == group.group or rng.random() < 0.3)
            ]
            add(self.choose(vehicles, 1), s.vehicle_role)
        if s.suspect_vessels:
            vessels = [
                v
                for v in self.vessels
                if v.category in s.suspect_vessels
                and sees(writer, v)
                and (not group or v.group == group.group or not v.group)
            ]
            if vessels and rng.random() < 0.7:
                add(self.choose(vessels, 1), "suspect")
        if s.target_vessels:
            vessels = [
                v for v in self.vessels if v.category in s.target_vessels and sees(writer, v)
            ]
            if vessels and rng.random() < 0.8:
                add(self.choose(vessels, 1), "target")
        return out, arrested

    # --- all --------------------------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        self.load_places()
        self.load_groups()
        self.load_persons()
        self.load_vehicles()
        self.load_vessels()
        self.load_links()
        self.load_incidents()
        return dict(self.counts)


# --------------------------------------------------------------------------------------------
# Casualty phrases


def _count_ar(n: int) -> str:
    if n == 1:
        return "شخص واحد"
    if n == 2:
        return "شخصين"
    if n <= 10:
        return f"{n} أشخاص"
    return f"{n} شخصاً"


def toll_ar(killed: int, injured: int) -> str:
    parts = []
    if killed:
        parts.append("مقتل " + _count_ar(killed))
    if injured:
        parts.append("إصابة " + _count_ar(injured))
    if not parts:
        return "دون وقوع إصابات"
    return "ما أسفر عن " + " و".join(parts)


def toll_en(killed: int, injured: int) -> str:
    def people(n: int) -> str:
        return "one person" if n == 1 else f"{n} people"

    if killed and injured:
        return f"killing {people(killed)} and injuring {'one' if injured == 1 else injured}"
    if killed:
        return f"killing {people(killed)}"
    if injured:
        return f"injuring {people(injured)}"
    return "without casualties"


def arrested_ar(n: int) -> str:
    if n <= 0:
        return "عدد"
    if n == 1:
        return "شخص واحد"
    if n == 2:
        return "شخصين"
    return f"{n} أشخاص"


# --------------------------------------------------------------------------------------------
# Entry point


def already_loaded(db: Session, actors: dict[str, Actor]) -> bool:
    stmt = select(Incident.id).where(
        Incident.ref == FIRST_REF, Incident.owner_org_id == actors["analyst"].org_id
    )
    return db.scalar(stmt.limit(1)) is not None


def load(db: Session, actors: dict[str, Actor]) -> dict[str, int]:
    """Create the demo registry (see the module docstring) unless it is there already.

    ``actors``: the demo users by username; ``analyst``, ``liaison``, ``watch`` and ``partner``
    are needed. Returns how many records of each kind were created (all 0 on a second run).
    """
    missing = [w for w in WRITERS if w not in actors]
    if missing:
        raise ValueError(f"demo registry data needs the demo users: {', '.join(missing)}")
    if already_loaded(db, actors):
        return dict.fromkeys(COUNT_KEYS, 0)
    return _Loader(db, actors).run()
