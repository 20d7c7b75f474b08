"""The registry's controlled vocabularies, with English and Arabic labels.

* ACLED event types and sub-event types, spelled exactly as in the ACLED codebook (so records
  exchange with ACLED data unchanged);
* the Global Terrorism Database (GTD) codebook's attack, target/victim and weapon types, with
  their GTD numeric codes and the GTD's own English text;
* the registry's own terms: involvement roles, link types (directed, with the label of the
  inverse direction for display), group kinds, geographic and date precision, identifier kinds;
* :func:`normalise_identifier`, which puts phone numbers, passports, plates, MMSI and IMO numbers
  and the like into one canonical form so that the same identifier is found however it was typed.

Every English label is a gettext msgid (wrapped in ``N_`` so Babel extracts it); the interface
shows ``gettext(term.en)``. The Arabic labels are kept here as data for exports and reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rasid.core.errors import NotFound, ValidationFailed
from rasid.core.i18n import N_, get_language


@dataclass(frozen=True, slots=True)
class Term:
    key: str  # the stored value
    en: str  # English label, a gettext msgid
    ar: str  # Arabic label
    code: int | None = None  # the source's numeric code, where it has one (GTD, ACLED precision)

    def label(self, language: str | None = None) -> str:
        return self.ar if (language or get_language()) == "ar" else self.en


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkType(Term):
    """A kind of link between two records: A <label> B, and B <inverse label> A."""

    directed: bool
    inverse_en: str
    inverse_ar: str

    def inverse_label(self, language: str | None = None) -> str:
        return self.inverse_ar if (language or get_language()) == "ar" else self.inverse_en


def _by_key(terms: Iterable[Term]) -> dict[str, Term]:
    table: dict[str, Term] = {}
    for term in terms:
        if term.key in table:
            raise ValueError(f"duplicate key {term.key!r}")
        table[term.key] = term
    return table


# --------------------------------------------------------------------------------------------
# ACLED (Armed Conflict Location & Event Data) event types and sub-event types

ACLED_BATTLES = "Battles"
ACLED_EXPLOSIONS = "Explosions/Remote violence"
ACLED_VIOLENCE_AGAINST_CIVILIANS = "Violence against civilians"
ACLED_PROTESTS = "Protests"
ACLED_RIOTS = "Riots"
ACLED_STRATEGIC_DEVELOPMENTS = "Strategic developments"

ACLED_EVENT_TYPES: dict[str, Term] = _by_key(
    (
        Term(ACLED_BATTLES, N_("Battles"), "معارك"),
        Term(ACLED_EXPLOSIONS, N_("Explosions/Remote violence"), "انفجارات/عنف عن بُعد"),
        Term(ACLED_VIOLENCE_AGAINST_CIVILIANS, N_("Violence against civilians"), "عنف ضد المدنيين"),
        Term(ACLED_PROTESTS, N_("Protests"), "احتجاجات"),
        Term(ACLED_RIOTS, N_("Riots"), "أعمال شغب"),
        Term(ACLED_STRATEGIC_DEVELOPMENTS, N_("Strategic developments"), "تطورات استراتيجية"),
    )
)

ACLED_SUB_EVENT_TYPES: dict[str, tuple[Term, ...]] = {
    ACLED_BATTLES: (
        Term("Armed clash", N_("Armed clash"), "اشتباك مسلح"),
        Term(
            "Government regains territory",
            N_("Government regains territory"),
            "استعادة الحكومة السيطرة على منطقة",
        ),
        Term(
            "Non-state actor overtakes territory",
            N_("Non-state actor overtakes territory"),
            "سيطرة طرف من غير الدول على منطقة",
        ),
    ),
    ACLED_EXPLOSIONS: (
        Term("Chemical weapon", N_("Chemical weapon"), "سلاح كيميائي"),
        Term("Air/drone strike", N_("Air/drone strike"), "غارة جوية/بطائرة مسيّرة"),
        Term("Suicide bomb", N_("Suicide bomb"), "تفجير انتحاري"),
        Term(
            "Shelling/artillery/missile attack",
            N_("Shelling/artillery/missile attack"),
            "قصف مدفعي/صاروخي",
        ),
        Term(
            "Remote explosive/landmine/IED",
            N_("Remote explosive/landmine/IED"),
            "عبوة ناسفة عن بُعد/لغم أرضي/عبوة ناسفة بدائية الصنع",
        ),
        Term("Grenade", N_("Grenade"), "قنبلة يدوية"),
    ),
    ACLED_VIOLENCE_AGAINST_CIVILIANS: (
        Term("Sexual violence", N_("Sexual violence"), "عنف جنسي"),
        Term("Attack", N_("Attack"), "اعتداء"),
        Term(
            "Abduction/forced disappearance",
            N_("Abduction/forced disappearance"),
            "اختطاف/إخفاء قسري",
        ),
    ),
    ACLED_PROTESTS: (
        Term("Peaceful protest", N_("Peaceful protest"), "احتجاج سلمي"),
        Term("Protest with intervention", N_("Protest with intervention"), "احتجاج مع تدخّل"),
        Term(
            "Excessive force against protesters",
            N_("Excessive force against protesters"),
            "استخدام القوة المفرطة ضد المحتجين",
        ),
    ),
    ACLED_RIOTS: (
        Term("Violent demonstration", N_("Violent demonstration"), "مظاهرة عنيفة"),
        Term("Mob violence", N_("Mob violence"), "عنف غوغائي"),
    ),
    ACLED_STRATEGIC_DEVELOPMENTS: (
        Term("Agreement", N_("Agreement"), "اتفاق"),
        Term("Arrests", N_("Arrests"), "اعتقالات"),
        Term("Change to group/activity", N_("Change to group/activity"), "تغيّر في الجماعة/النشاط"),
        Term("Disrupted weapons use", N_("Disrupted weapons use"), "إحباط استخدام أسلحة"),
        Term(
            "Headquarters or base established",
            N_("Headquarters or base established"),
            "إنشاء مقر أو قاعدة",
        ),
        Term(
            "Looting/property destruction",
            N_("Looting/property destruction"),
            "نهب/تدمير ممتلكات",
        ),
        Term(
            "Non-violent transfer of territory",
            N_("Non-violent transfer of territory"),
            "انتقال السيطرة على منطقة دون عنف",
        ),
        Term("Other", N_("Other"), "أخرى"),
    ),
}

ACLED_SUB_EVENT_TYPE_LIST: dict[str, Term] = _by_key(
    term for terms in ACLED_SUB_EVENT_TYPES.values() for term in terms
)
_ACLED_EVENT_OF: dict[str, str] = {
    term.key: event for event, terms in ACLED_SUB_EVENT_TYPES.items() for term in terms
}


def acled_sub_event_types(event_type: str) -> list[Term]:
    """The sub-event types of one ACLED event type, in codebook order."""
    if event_type not in ACLED_SUB_EVENT_TYPES:
        raise ValidationFailed(
            "Unknown ACLED event type: %(value)s.", field="event_type", value=event_type
        )
    return list(ACLED_SUB_EVENT_TYPES[event_type])


def acled_event_type_of(sub_event_type: str) -> str:
    """The event type a sub-event type belongs to (each sub-event type belongs to one)."""
    event_type = _ACLED_EVENT_OF.get(sub_event_type)
    if event_type is None:
        raise ValidationFailed(
            "Unknown ACLED sub-event type: %(value)s.",
            field="sub_event_type",
            value=sub_event_type,
        )
    return event_type


def check_acled(event_type: str, sub_event_type: str | None) -> None:
    """Raise ValidationFailed unless the pair is valid in the ACLED codebook (exact spelling).

    A missing (None or empty) sub-event type is accepted; a sub-event type of another event
    type is not, and neither is a sub-event type without its event type.
    """
    event_type, sub_event_type = event_type.strip(), (sub_event_type or "").strip()
    if not event_type and sub_event_type:
        raise ValidationFailed(
            "Choose the ACLED event type of the sub-event type %(value)s.",
            field="event_type",
            value=sub_event_type,
        )
    sub_types = acled_sub_event_types(event_type)
    if not sub_event_type or any(term.key == sub_event_type for term in sub_types):
        return
    if sub_event_type in _ACLED_EVENT_OF:
        raise ValidationFailed(
            "%(value)s is a sub-event type of %(parent)s, not of %(event_type)s.",
            field="sub_event_type",
            value=sub_event_type,
            parent=_ACLED_EVENT_OF[sub_event_type],
            event_type=event_type,
        )
    raise ValidationFailed(
        "Unknown ACLED sub-event type: %(value)s.", field="sub_event_type", value=sub_event_type
    )


# --------------------------------------------------------------------------------------------
# GTD (Global Terrorism Database) codebook: attacktype, targtype and weaptype codes


def _gtd(code: int, en: str, ar: str) -> Term:
    return Term(str(code), en, ar, code)


GTD_ATTACK_TYPES: dict[str, Term] = _by_key(
    (
        _gtd(1, N_("Assassination"), "اغتيال"),
        _gtd(2, N_("Armed Assault"), "هجوم مسلح"),
        _gtd(3, N_("Bombing/Explosion"), "تفجير/انفجار"),
        _gtd(4, N_("Hijacking"), "اختطاف وسيلة نقل"),
        _gtd(5, N_("Hostage Taking (Barricade Incident)"), "احتجاز رهائن (مع التحصّن)"),
        _gtd(6, N_("Hostage Taking (Kidnapping)"), "احتجاز رهائن (خطف)"),
        _gtd(7, N_("Facility/Infrastructure Attack"), "هجوم على منشأة/بنية تحتية"),
        _gtd(8, N_("Unarmed Assault"), "اعتداء غير مسلح"),
        _gtd(9, N_("Unknown"), "غير معروف"),
    )
)

GTD_TARGET_TYPES: dict[str, Term] = _by_key(
    (
        _gtd(1, N_("Business"), "منشآت تجارية"),
        _gtd(2, N_("Government (General)"), "جهات حكومية (عامة)"),
        _gtd(3, N_("Police"), "الشرطة"),
        _gtd(4, N_("Military"), "العسكريون"),
        _gtd(5, N_("Abortion Related"), "مرتبط بالإجهاض"),
        _gtd(6, N_("Airports & Aircraft"), "المطارات والطائرات"),
        _gtd(7, N_("Government (Diplomatic)"), "جهات حكومية (دبلوماسية)"),
        _gtd(8, N_("Educational Institution"), "مؤسسة تعليمية"),
        _gtd(9, N_("Food or Water Supply"), "إمدادات الغذاء أو المياه"),
        _gtd(10, N_("Journalists & Media"), "الصحفيون ووسائل الإعلام"),
        _gtd(11, N_("Maritime"), "الملاحة البحرية والموانئ"),
        _gtd(12, N_("NGO"), "منظمة غير حكومية"),
        _gtd(13, N_("Other"), "أخرى"),
        _gtd(14, N_("Private Citizens & Property"), "المواطنون والممتلكات الخاصة"),
        _gtd(15, N_("Religious Figures/Institutions"), "شخصيات/مؤسسات دينية"),
        _gtd(16, N_("Telecommunication"), "الاتصالات"),
        _gtd(17, N_("Terrorists/Non-State Militia"), "إرهابيون/ميليشيات من غير الدول"),
        _gtd(18, N_("Tourists"), "السياح"),
        _gtd(19, N_("Transportation"), "النقل (غير الجوي)"),
        _gtd(20, N_("Unknown"), "غير معروف"),
        _gtd(21, N_("Utilities"), "المرافق العامة"),
        _gtd(22, N_("Violent Political Party"), "حزب سياسي عنيف"),
    )
)

GTD_WEAPON_TYPES: dict[str, Term] = _by_key(
    (
        _gtd(1, N_("Biological"), "بيولوجي"),
        _gtd(2, N_("Chemical"), "كيميائي"),
        _gtd(3, N_("Radiological"), "إشعاعي"),
        _gtd(4, N_("Nuclear"), "نووي"),
        _gtd(5, N_("Firearms"), "أسلحة نارية"),
        _gtd(6, N_("Explosives"), "متفجرات"),
        _gtd(7, N_("Fake Weapons"), "أسلحة مزيّفة"),
        _gtd(8, N_("Incendiary"), "مواد حارقة"),
        _gtd(9, N_("Melee"), "أسلحة بيضاء"),
        # The GTD's own text for code 10, as it appears in weaptype1_txt.
        _gtd(
            10,
            N_("Vehicle (not to include vehicle-borne explosives, i.e., car or truck bombs)"),
            "مركبة (لا تشمل المتفجرات المحمولة على مركبات، أي السيارات أو الشاحنات المفخخة)",
        ),
        _gtd(11, N_("Sabotage Equipment"), "معدات تخريب"),
        _gtd(12, N_("Other"), "أخرى"),
        _gtd(13, N_("Unknown"), "غير معروف"),
    )
)


def _check_gtd_code(table: dict[str, Term], value: int | None, field: str, message: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or str(value) not in table:
        raise ValidationFailed(message, field=field, value=value)


def check_gtd(attack_type: int | None, target_type: int | None, weapon_type: int | None) -> None:
    """Raise ValidationFailed, naming the field, for a code that is not in the GTD codebook."""
    _check_gtd_code(
        GTD_ATTACK_TYPES,
        attack_type,
        "attack_type",
        N_("Unknown GTD attack type code: %(value)s."),
    )
    _check_gtd_code(
        GTD_TARGET_TYPES,
        target_type,
        "target_type",
        N_("Unknown GTD target type code: %(value)s."),
    )
    _check_gtd_code(
        GTD_WEAPON_TYPES,
        weapon_type,
        "weapon_type",
        N_("Unknown GTD weapon type code: %(value)s."),
    )


# --------------------------------------------------------------------------------------------
# The registry's own vocabularies

INVOLVEMENT_ROLES: dict[str, Term] = _by_key(
    (
        Term("perpetrator", N_("Perpetrator"), "منفّذ"),
        Term("target", N_("Target"), "مستهدَف"),
        Term("victim", N_("Victim"), "ضحية"),
        Term("arrested", N_("Arrested"), "مقبوض عليه"),
        Term("suspect", N_("Suspect"), "مشتبه به"),
        Term("witness", N_("Witness"), "شاهد"),
        Term("owner", N_("Owner of the vehicle or vessel"), "مالك المركبة أو السفينة"),
    )
)


def _directed(key: str, en: str, ar: str, inverse_en: str, inverse_ar: str) -> LinkType:
    return LinkType(key, en, ar, directed=True, inverse_en=inverse_en, inverse_ar=inverse_ar)


def _mutual(key: str, en: str, ar: str) -> LinkType:
    return LinkType(key, en, ar, directed=False, inverse_en=en, inverse_ar=ar)


LINK_TYPES: dict[str, LinkType] = {
    link.key: link
    for link in (
        _directed("member_of", N_("Member of"), "عضو في", N_("Has member"), "من أعضائه"),
        _directed("leader_of", N_("Leader of"), "قائد", N_("Led by"), "بقيادة"),
        _directed("commands", N_("Commands"), "يتولى قيادة", N_("Commanded by"), "تحت قيادة"),
        _directed("owns", N_("Owns"), "يملك", N_("Owned by"), "مملوك لـ"),
        _directed("operates", N_("Operates"), "يشغّل", N_("Operated by"), "يشغّله"),
        _directed("uses", N_("Uses"), "يستخدم", N_("Used by"), "يستخدمه"),
        _directed("located_at", N_("Located at"), "موجود في", N_("Location of"), "موقع لـ"),
        _directed("funds", N_("Funds"), "يموّل", N_("Funded by"), "يموّله"),
        _directed("supplies", N_("Supplies"), "يزوّد", N_("Supplied by"), "يزوّده"),
        _directed("employed_by", N_("Employed by"), "يعمل لدى", N_("Employs"), "يوظّف"),
        _directed("crew_of", N_("Crew member of"), "من طاقم", N_("Has crew member"), "من طاقمها"),
        _directed(
            "subsidiary_of",
            N_("Subsidiary of"),
            "شركة تابعة لـ",
            N_("Parent company of"),
            "الشركة الأم لـ",
        ),
        _directed("trained_by", N_("Trained by"), "تدرّب على يد", N_("Trained"), "درّب"),
        _mutual("associate_of", N_("Associate of"), "على صلة بـ"),
        _mutual("relative_of", N_("Relative of"), "قريب لـ"),
        _mutual("communicates_with", N_("Communicates with"), "يتواصل مع"),
        _mutual("travelled_with", N_("Travelled with"), "سافر مع"),
        _mutual("allied_with", N_("Allied with"), "متحالف مع"),
        _mutual("rival_of", N_("Rival of"), "خصم لـ"),
    )
}

GROUP_KINDS: dict[str, Term] = _by_key(
    (
        Term("armed_group", N_("Armed group"), "جماعة مسلحة"),
        Term("network", N_("Network"), "شبكة"),
        Term("company", N_("Company"), "شركة"),
        Term("other", N_("Other"), "أخرى"),
    )
)

# ACLED's geo_precision: 1 the exact place, 2 near it or a part of a district, 3 only the
# district or governorate (a larger area) is known.
GEO_PRECISIONS: dict[str, Term] = _by_key(
    (
        Term("1", N_("Exact location"), "موقع دقيق", 1),
        Term(
            "2", N_("Near the place or part of a district"), "بالقرب من المكان أو جزء من مديرية", 2
        ),
        Term("3", N_("District or governorate level"), "على مستوى المديرية أو المحافظة", 3),
    )
)

# ACLED's time_precision uses the same three levels (1 day, 2 month, 3 year).
DATE_PRECISIONS: dict[str, Term] = _by_key(
    (
        Term("day", N_("Exact day"), "اليوم بالتحديد", 1),
        Term("month", N_("Month only"), "الشهر فقط", 2),
        Term("year", N_("Year only"), "السنة فقط", 3),
    )
)

IDENTIFIER_KINDS: dict[str, Term] = _by_key(
    (
        Term("national_id", N_("National ID number"), "رقم الهوية الوطنية"),
        Term("passport", N_("Passport number"), "رقم جواز السفر"),
        Term("phone", N_("Phone number"), "رقم الهاتف"),
        Term("email", N_("Email address"), "البريد الإلكتروني"),
        Term("plate", N_("Vehicle plate"), "رقم لوحة المركبة"),
        Term("mmsi", N_("MMSI"), "رقم MMSI (هوية الخدمة البحرية المتنقلة)"),
        Term("imo", N_("IMO number"), "رقم المنظمة البحرية الدولية (IMO)"),
        Term("call_sign", N_("Call sign"), "رمز النداء"),
    )
)

VOCABULARIES: dict[str, dict[str, Term]] = {
    "acled_event_type": ACLED_EVENT_TYPES,
    "acled_sub_event_type": ACLED_SUB_EVENT_TYPE_LIST,
    "gtd_attack_type": GTD_ATTACK_TYPES,
    "gtd_target_type": GTD_TARGET_TYPES,
    "gtd_weapon_type": GTD_WEAPON_TYPES,
    "involvement_role": INVOLVEMENT_ROLES,
    "link_type": dict(LINK_TYPES),
    "group_kind": GROUP_KINDS,
    "geo_precision": GEO_PRECISIONS,
    "date_precision": DATE_PRECISIONS,
    "identifier_kind": IDENTIFIER_KINDS,
}


def terms(vocabulary: str) -> list[Term]:
    """The terms of a vocabulary, in their defined order (for select boxes and exports)."""
    return list(_vocabulary(vocabulary).values())


def _vocabulary(vocabulary: str) -> dict[str, Term]:
    table = VOCABULARIES.get(vocabulary)
    if table is None:
        raise NotFound("Unknown vocabulary: %(value)s.", field="vocabulary", value=vocabulary)
    return table


def term(vocabulary: str, key: str | int) -> Term:
    """One term; GTD and precision terms may be looked up by their numeric code."""
    found = _vocabulary(vocabulary).get(str(key))
    if found is None:
        raise NotFound("%(value)s is not an allowed value.", field=vocabulary, value=key)
    return found


def check_term(vocabulary: str, key: str | int, *, field: str | None = None) -> None:
    """Raise ValidationFailed (on ``field``, by default the vocabulary's name) unless ``key``
    is a term of ``vocabulary``."""
    if str(key) not in _vocabulary(vocabulary):
        raise ValidationFailed(
            "%(value)s is not an allowed value.", field=field or vocabulary, value=key
        )


def label(vocabulary: str, key: str | int, language: str | None = None) -> str:
    """The Arabic label for "ar", the English one (a msgid) otherwise; default: the current
    language. ``label("gtd_attack_type", 3, "ar") == "تفجير/انفجار"``."""
    return term(vocabulary, key).label(language)


def inverse_label(link_type: str, language: str | None = None) -> str:
    """How a link reads from its other end ("member_of" seen from the group: "Has member")."""
    link = LINK_TYPES.get(link_type)
    if link is None:
        raise NotFound("%(value)s is not an allowed value.", field="link_type", value=link_type)
    return link.inverse_label(language)


def gtd_code(vocabulary: str, text: str) -> int:
    """The GTD code of a GTD text value (``attacktype1_txt`` …), as found in GTD exports."""
    if vocabulary not in ("gtd_attack_type", "gtd_target_type", "gtd_weapon_type"):
        raise NotFound("Unknown vocabulary: %(value)s.", field="vocabulary", value=vocabulary)
    wanted = " ".join(text.split()).casefold()
    for t in VOCABULARIES[vocabulary].values():
        if t.en.casefold() == wanted and t.code is not None:
            return t.code
    raise NotFound("%(value)s is not an allowed value.", field=vocabulary, value=text)


# --------------------------------------------------------------------------------------------
# Identifiers

_ASCII_DIGITS = str.maketrans(
    {
        **{chr(0x0660 + d): str(d) for d in range(10)},  # ٠-٩
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # ۰-۹
    }
)
_PHONE_SEPARATORS = re.compile(r"[\s\-.()/\u200e\u200f]")
_SPACES_HYPHENS = re.compile(r"[\s\-\u2010-\u2015\u200e\u200f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_ASCII_ALNUM = re.compile(r"^[A-Z0-9]+$")
_YEMEN = "967"
_FIELD = "identifiers"


def is_valid_imo(number: str) -> bool:
    """IMO ship numbers: 7 digits, the last being the sum of the first six weighted 7…2, mod 10."""
    if len(number) != 7 or not number.isascii() or not number.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:6], range(7, 1, -1), strict=True))
    return total % 10 == int(number[6])


def _phone(value: str) -> str:
    compact = _PHONE_SEPARATORS.sub("", value)
    international = compact.startswith("+")
    digits = compact[1:] if international else compact
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValidationFailed(
            "A phone number may contain only digits, spaces, hyphens, brackets and a leading +: "
            "%(value)s.",
            field=_FIELD,
            value=value,
        )
    if not international:
        if digits.startswith("00"):  # international access prefix
            digits, international = digits[2:], True
        elif digits.startswith("0"):  # Yemeni trunk prefix: 01 234567, 0777 123 456
            digits, international = _YEMEN + digits[1:], True
        elif digits.startswith(_YEMEN) and 10 <= len(digits) <= 12:
            international = True
        elif len(digits) == 9 and digits.startswith("7"):  # a Yemeni mobile without prefix
            digits, international = _YEMEN + digits, True
    if international and digits.startswith(_YEMEN):
        national = digits[len(_YEMEN) :]
        if national.startswith("0"):  # +967 0777 … : the trunk 0 does not belong after +967
            national = national[1:]
        if not 7 <= len(national) <= 9:
            raise ValidationFailed(
                "A Yemeni phone number has 7 to 9 digits after +967: %(value)s.",
                field=_FIELD,
                value=value,
            )
        digits = _YEMEN + national
    if not 5 <= len(digits) <= 15:
        raise ValidationFailed(
            "A phone number has 5 to 15 digits: %(value)s.", field=_FIELD, value=value
        )
    return ("+" if international else "") + digits


def _compact_upper(value: str) -> str:
    return _SPACES_HYPHENS.sub("", value).upper()


def normalise_identifier(kind: str, value: str) -> str:
    """The canonical form of an identifier, or ValidationFailed (field "identifiers").

    * phone: digits only, a leading + kept; Yemeni numbers written 00967…, 967…, 0… or as a bare
      9-digit mobile (7xx xxx xxx) all become +967…; 00 becomes +;
    * email: lower case;
    * passport, call_sign: upper case, spaces and hyphens removed, Latin letters and digits only;
    * plate, national_id: upper case, spaces and hyphens removed (plates may keep Arabic letters
      and a /);
    * mmsi: exactly 9 digits; imo: 7 digits (an "IMO" prefix is dropped) with a valid check digit.

    Arabic-Indic digits are read as digits everywhere.
    """
    if kind not in IDENTIFIER_KINDS:
        raise ValidationFailed("Unknown kind of identifier: %(value)s.", field=_FIELD, value=kind)
    text = value.translate(_ASCII_DIGITS).strip()
    if not text:
        raise ValidationFailed("The identifier is empty.", field=_FIELD, value=value)
    if kind == "phone":
        return _phone(text)
    if kind == "email":
        email = text.casefold()
        if not _EMAIL.match(email):
            raise ValidationFailed("Not an email address: %(value)s.", field=_FIELD, value=value)
        return email
    if kind == "mmsi":
        digits = _SPACES_HYPHENS.sub("", text)
        if len(digits) != 9 or not digits.isascii() or not digits.isdigit():
            raise ValidationFailed(
                "An MMSI has exactly 9 digits: %(value)s.", field=_FIELD, value=value
            )
        return digits
    if kind == "imo":
        digits = _compact_upper(text).removeprefix("IMO").removeprefix(":")
        if len(digits) != 7 or not digits.isascii() or not digits.isdigit():
            raise ValidationFailed(
                "An IMO number has 7 digits: %(value)s.", field=_FIELD, value=value
            )
        if not is_valid_imo(digits):
            raise ValidationFailed(
                "The IMO number %(value)s fails its check digit.", field=_FIELD, value=value
            )
        return digits
    compact = _compact_upper(text)
    if kind in ("passport", "call_sign"):
        if not _ASCII_ALNUM.match(compact):
            raise ValidationFailed(
                "A passport number or call sign may contain only Latin letters and digits: "
                "%(value)s.",
                field=_FIELD,
                value=value,
            )
        return compact
    if not compact.replace("/", "").isalnum() or (kind == "national_id" and "/" in compact):
        raise ValidationFailed(
            "An identifier may contain only letters and digits: %(value)s.",
            field=_FIELD,
            value=value,
        )
    return compact
