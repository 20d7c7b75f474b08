"""Names as they really appear: Arabic normalisation, Latin spellings, cross-script keys, scores.

One Arabic name reaches an analyst in a dozen Latin spellings ("Mohammed Abdullah al-Houthi",
"Muhammad Abdallah Al Huthi", "Mohamed Abd Allah"). This module turns any name, in either
script, into *tokens* that carry *consonant keys*: each Arabic letter and each Latin letter or
digraph maps to a consonant class chosen so that the usual transliteration equivalences fall
into the same class, and vowels (short and long) are dropped:

| class | Arabic | Latin |
| --- | --- | --- |
| B | ب | b, p |
| T | ت ط | t |
| S | ث س ص | s, th |
| J | ج | j, g (also tried as K) |
| H | ح ه | h |
| X | خ | kh |
| D | د ذ ض ظ ز | d, dh, z, zh |
| R | ر | r |
| C | ش | sh, ch |
| G | غ | gh |
| F | ف | f, ph, v |
| K | ق ك | q, k, c, ck, g |
| L M N | ل م ن | l m n |
| W Y | و ي at the start of a token | w y at the start of a token |

Dropped everywhere: vowels (ا و ي ى inside a token; a e i o u, and w y inside a token), ع and
ء (ʿayn and hamza: ' ʿ ʾ), a token-final ه / ة and a Latin "h" after a final vowel (so ة as
a / ah / at-less spellings agree). Repeated classes collapse (Mohammed → MHMD = محمد). The
article (ال, al-, el-, joined "Alhouthi") is tried with and without. "عبد" / "Abd", "Abdul",
"Abdel" join the next token, so عبد الله = عبدالله = Abdullah = Abd Allah = Abdallah.

Scores compare token by token, order-insensitively (family name first is fine), tolerate a
missing middle name (a small penalty per unmatched part of the record) and typos (a key one
edit away still counts, most of the way). Pure functions: no database, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

# --- Arabic -------------------------------------------------------------------------------

_AR_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u06d6-\u06ed]")
_AR_LETTER_MAP = str.maketrans(
    {
        "\u0670": "ا",  # superscript (dagger) alef, as in رحمٰن
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ؤ": "و",
        "ئ": "ي",
        "ء": "",
        "\u0640": "",  # tatweel
        "ک": "ك",  # Persian/Urdu forms met in partner data
        "ی": "ي",
        "ۀ": "ه",
        "٠": "0",
        "١": "1",
        "٢": "2",
        "٣": "3",
        "٤": "4",
        "٥": "5",
        "٦": "6",
        "٧": "7",
        "٨": "8",
        "٩": "9",
    }
)
_ARABIC_CHAR = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_SPLIT = re.compile(r"[^\w]+", re.UNICODE)

_AR_CLASS = {
    "ب": "B",
    "ت": "T",
    "ط": "T",
    "ث": "S",
    "س": "S",
    "ص": "S",
    "ج": "J",
    "ح": "H",
    "ه": "H",
    "خ": "X",
    "د": "D",
    "ذ": "D",
    "ض": "D",
    "ظ": "D",
    "ز": "D",
    "ر": "R",
    "ش": "C",
    "غ": "G",
    "ف": "F",
    "ق": "K",
    "ك": "K",
    "ل": "L",
    "م": "M",
    "ن": "N",
}
_AR_WEAK = {"ا", "و", "ي", "ى"}
_AR_SILENT = {"ع"}
_AR_INITIAL = {"و": "W", "ي": "Y"}


def is_arabic(text: str) -> bool:
    return bool(_ARABIC_CHAR.search(text))


def normalise_arabic(text: str) -> str:
    """Fold the spelling differences of written Arabic that do not change a name.

    NFKC (presentation forms), no diacritics or tatweel, superscript alef as alef, every
    alef form as ا, ى as ي, hamza carriers as their base letter, Arabic-Indic digits as
    ASCII, punctuation as spaces. ة is kept (it decides the consonant key) and folded to ه
    only when spellings are compared (:func:`fold`).
    """
    text = unicodedata.normalize("NFKC", text)
    text = _AR_DIACRITICS.sub("", text.replace("\u0670", "ا"))
    text = text.translate(_AR_LETTER_MAP)
    return " ".join(t for t in _SPLIT.split(text) if t)


def _join_compounds(tokens: list[str], heads: frozenset[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in heads and i + 1 < len(tokens):
            head = tok[:-1] + "ت" if tok.endswith("ة") else tok  # أمة الرحمن: Amat al-Rahman
            out.append(head + tokens[i + 1])
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


_AR_COMPOUND_HEADS = frozenset({"عبد", "با", "امة"})


def arabic_tokens(text: str) -> list[str]:
    """Normalised Arabic tokens, with "عبد X" and "X الله" joined into one token.

    In "أمة الله" the ة is pronounced t before الله (Amatullah); it is spelt ت when joined.
    """
    tokens = _join_compounds(normalise_arabic(text).split(), _AR_COMPOUND_HEADS)
    out: list[str] = []
    for tok in tokens:
        if tok == "الله" and out and not out[-1].endswith("الله"):
            prev = out.pop()
            if prev.endswith("ة"):
                prev = prev[:-1] + "ت"
            out.append(prev + tok)
        else:
            out.append(tok)
    return out


_SUN_LETTERS = frozenset("تثدذرزسشصضطظلن")
_AR_VOWEL = {"ا": "A", "و": "U", "ي": "I", "ى": "A", "ع": "E"}


def _arabic_pattern(token: str) -> tuple[str, tuple[str, ...]]:
    """(consonant key, vowel gaps): the long vowels (A, I, U) and ʿayn (E) after each consonant."""
    classes: list[str] = []
    gaps: list[str] = []
    gap = ""
    for i, ch in enumerate(token):
        if ch in _AR_SILENT:
            if classes and "E" not in gap:
                gap += "E"  # ʿayn: Latin spellings put any vowel there (Jaadani, Sha'abi)
            continue
        if ch in _AR_WEAK:
            if i == 0 and ch in _AR_INITIAL:
                classes.append(_AR_INITIAL[ch])
                gaps.append("")
                continue
            # the article's alef (ال at the start, in عبدال…, before الله) is not a long vowel
            if (
                ch == "ا"
                and token[i + 1 : i + 2] == "ل"
                and (i == 0 or token[:i] in ("عبد", "امت") or token[i:].startswith("الله"))
            ):
                continue
            if classes and _AR_VOWEL[ch] not in gap:
                gap += _AR_VOWEL[ch]
            continue
        if ch == "ة":
            continue  # teh marbuta: silent at the end (a / ah), spelt ت when pronounced
        cls = _AR_CLASS.get(ch)
        if cls is None:
            if not (ch.isdigit() or ch.isascii()):
                continue
            cls = ch.upper()
        if classes:
            gaps[-1] = gap
        gap = ""
        if classes and classes[-1] == cls:
            continue  # a doubled consonant: one class, the vowel between is not compared
        classes.append(cls)
        gaps.append("")
    if classes:
        gaps[-1] = gap
    return "".join(classes), tuple(gaps)


def fold(text: str) -> str:
    """Comparison form of a normalised token: ة/ه and ى/ي written either way are the same."""
    return text.replace("ة", "ه").replace("ى", "ي")


def _arabic_key(token: str) -> str:
    return _arabic_pattern(token)[0]


def arabic_token_patterns(token: str) -> frozenset[tuple[str, tuple[str, ...]]]:
    patterns = {_arabic_pattern(token)}
    if token.startswith("ال") and len(token) > 3:
        patterns.add(_arabic_pattern(token[2:]))
    # عبد السلام is also said (and spelt) Abdessalam, the ل assimilated to the sun letter
    if token.startswith("عبدال") and len(token) > 5 and token[5] in _SUN_LETTERS:
        patterns.add(_arabic_pattern("عبد" + token[5:]))
    return frozenset(p for p in patterns if p[0])


def arabic_token_keys(token: str) -> frozenset[str]:
    return frozenset(k for k, _ in arabic_token_patterns(token))


# --- Latin -----------------------------------------------------------------------------------

_LATIN_APOSTROPHES = str.maketrans({c: "" for c in "'ʿʾ’‘`´ʻʼ"})
# al-, el- and the sun-letter forms (as-Sabri, az-Zubairi, ash-Shami)
_LATIN_ARTICLES = frozenset(
    {
        "al",
        "el",
        "ul",
        "il",
        "al.",
        "l",
        "as",
        "ad",
        "ar",
        "at",
        "az",
        "ash",
        "an",
        "ath",
        "adh",
        "ad-",
    }
)
_LATIN_COMPOUND_HEADS = frozenset(
    # Ba Wazir = باوزير; Amat al-Rahman = أمة الرحمن
    {"abd", "abdul", "abdel", "abdal", "abdol", "abdil", "abdoul", "ba", "amat", "amatul"}
)
_LATIN_ALLAH = frozenset({"allah", "ullah", "alla", "ulla", "illah"})
_LATIN_ABBREVIATIONS = {
    "mohd": "mohammed",
    "mhd": "mohammed",
    "md": "mohammed",
    "muhd": "muhammad",
    "abdalla": "abdallah",
}
_LATIN_DIGRAPHS = {
    "kh": ("X",),
    "gh": ("G",),
    "sh": ("C",),
    "ch": ("C",),
    "th": ("S", "D"),  # ث Uthman or ذ Nathir
    "dh": ("D",),
    "zh": ("D",),
    "ph": ("F",),
    "ck": ("K",),
}
_LATIN_SINGLE: dict[str, tuple[str, ...]] = {
    "b": ("B",),
    "p": ("B",),
    "t": ("T",),
    "s": ("S",),
    "j": ("J",),
    "g": ("J", "K"),
    "h": ("H",),
    "d": ("D",),
    "z": ("D",),
    "r": ("R",),
    "f": ("F",),
    "v": ("F",),
    "q": ("K",),
    "k": ("K",),
    "c": ("K",),
    "x": ("KS",),
    "l": ("L",),
    "m": ("M",),
    "n": ("N",),
}
_LATIN_VOWELS = set("aeiou")
_MAX_VARIANTS = 8


def normalise_latin(text: str) -> str:
    """Lower case, accents and ʿayn/hamza marks removed, punctuation as spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_LATIN_APOSTROPHES).lower()
    return " ".join(t for t in _SPLIT.split(text) if t)


def latin_tokens(text: str) -> list[str]:
    """Normalised Latin tokens: "Abd (al) X" / "Abdul X" and "X Allah" joined, articles dropped."""
    raw = [_LATIN_ABBREVIATIONS.get(t, t) for t in normalise_latin(text).split()]
    joined: list[str] = []
    i = 0
    while i < len(raw):
        tok = raw[i]
        if tok in _LATIN_COMPOUND_HEADS and i + 1 < len(raw):
            if raw[i + 1] in _LATIN_ARTICLES and i + 2 < len(raw):
                joined.append(tok + raw[i + 1] + raw[i + 2])
                i += 3
                continue
            joined.append(tok + raw[i + 1])
            i += 2
            continue
        if i + 1 < len(raw) and raw[i + 1] in _LATIN_ALLAH and tok not in _LATIN_ARTICLES:
            joined.append(tok + raw[i + 1])
            i += 2
            continue
        joined.append(tok)
        i += 1
    return [t for t in joined if t not in _LATIN_ARTICLES]


def _latin_patterns(token: str) -> set[tuple[str, tuple[str, ...]]]:
    """(consonant key, vowel gaps) for each reading of a Latin token (g as ج or ق …)."""
    # Each variant: (classes, gaps, current gap)
    variants: list[tuple[list[str], list[str], str]] = [([], [], "")]
    i = 0
    n = len(token)
    while i < n:
        ch = token[i]
        pair = token[i : i + 2]
        classes: tuple[str, ...]
        if pair in _LATIN_DIGRAPHS:
            classes = _LATIN_DIGRAPHS[pair]
            i += 2
        elif ch in _LATIN_VOWELS or (ch in "wy" and i > 0):
            variants = [(c, g, cur + ch) for c, g, cur in variants]
            i += 1
            continue
        elif ch in "wy":
            classes = ("W",) if ch == "w" else ("Y",)
            i += 1
        elif ch == "h" and i == n - 1 and i > 0 and token[i - 1] in _LATIN_VOWELS:
            classes = ("", "H")  # final "ah"/"eh": teh marbuta (silent) or a real ح / ه
            i += 1
        elif ch in _LATIN_SINGLE:
            classes = _LATIN_SINGLE[ch]
            i += 1
        else:
            i += 1
            if not ch.isdigit():
                continue
            classes = (ch,)
        grown: list[tuple[list[str], list[str], str]] = []
        for cls_list, gaps, cur in variants:
            for cls in classes:
                c2, g2 = list(cls_list), list(gaps)
                for part in cls:
                    if c2:
                        g2[-1] = cur
                    cur = ""
                    if c2 and c2[-1] == part:
                        continue
                    c2.append(part)
                    g2.append("")
                grown.append((c2, g2, cur if not cls else ""))
        variants = grown[:_MAX_VARIANTS]
    out: set[tuple[str, tuple[str, ...]]] = set()
    if token.startswith("ou") and len(token) > 3 and token[2] not in _LATIN_VOWELS:
        out |= _latin_patterns("w" + token[2:])  # Ould = ولد
    for cls_list, gaps, cur in variants:
        if cls_list:
            gaps[-1] = cur
        out.add(("".join(cls_list), tuple(gaps)))
        if cur and cls_list and cls_list[-1] != "H":
            out.add(("".join(cls_list) + "H", (*gaps, "")))  # Taha = طه, Abdulla = عبدالله
        if not cur and len(cls_list) > 1 and cls_list[-1] == "T" and gaps[-2].endswith("a"):
            out.add(("".join(cls_list[:-1]), tuple(gaps[:-1])))  # Hayat = حياة, Amat = أمة
    return out


def _latin_keys(token: str) -> set[str]:
    return {k for k, _ in _latin_patterns(token)}


def latin_token_patterns(token: str) -> frozenset[tuple[str, tuple[str, ...]]]:
    patterns = _latin_patterns(token)
    for article in ("al", "el"):
        if token.startswith(article) and len(token) > len(article) + 2:
            patterns |= _latin_patterns(token[len(article) :])
    return frozenset(p for p in patterns if p[0])


def _collapse(key: str) -> str:
    return re.sub(r"(.)\1+", r"\1", key)


# --- tokens and names ----------------------------------------------------------------------------


Pattern = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Token:
    text: str  # normalised
    patterns: frozenset[Pattern]
    script: str  # "ar" or "latin"
    keys: frozenset[str] = field(default=frozenset())

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", frozenset(k for k, _ in self.patterns))


@dataclass(frozen=True)
class NameForm:
    """A name ready for matching: its tokens with their keys."""

    original: str
    script: str
    tokens: tuple[Token, ...]

    @property
    def normalised(self) -> str:
        return " ".join(t.text for t in self.tokens)


@lru_cache(maxsize=65536)
def parse(name: str) -> NameForm:
    if is_arabic(name):
        tokens = tuple(Token(t, arabic_token_patterns(t), "ar") for t in arabic_tokens(name))
        return NameForm(name, "ar", tuple(t for t in tokens if t.patterns))
    tokens = tuple(Token(t, latin_token_patterns(t), "latin") for t in latin_tokens(name))
    return NameForm(name, "latin", tuple(t for t in tokens if t.patterns))


def index_terms(name: str) -> set[str]:
    """Terms stored in the search index for one name.

    ``t:KEY`` for each token key, and ``p:KEY1|KEY2`` for each unordered pair of tokens (every
    key combination), which makes multi-part queries selective even for very common given
    names.
    """
    form = parse(name)
    terms = {f"t:{k}" for tok in form.tokens for k in tok.keys}
    toks = form.tokens
    for i in range(len(toks)):
        for j in range(i + 1, len(toks)):
            for a in toks[i].keys:
                for b in toks[j].keys:
                    if a != b:
                        x, y = sorted((a, b))
                        terms.add(f"p:{x}|{y}")
    return terms


def query_terms(name: str) -> tuple[set[str], set[str]]:
    """(token terms, pair terms) to look up for a query."""
    terms = index_terms(name)
    return {t for t in terms if t.startswith("t:")}, {t for t in terms if t.startswith("p:")}


# --- scoring ----------------------------------------------------------------------------------------

MISSING_PART_PENALTY = 0.04
MAX_MISSING_PENALTY = 0.12


@dataclass(frozen=True)
class TokenMatch:
    query: str
    record: str
    similarity: float
    rule: str  # "same spelling", "same key", "one edit"


@dataclass(frozen=True)
class Match:
    score: float  # 0..1
    matches: tuple[TokenMatch, ...] = field(default_factory=tuple)
    unmatched_query: tuple[str, ...] = field(default_factory=tuple)
    unmatched_record: tuple[str, ...] = field(default_factory=tuple)

    def reason(self) -> str:
        rules = sorted({m.rule for m in self.matches})
        parts = f"{len(self.matches)} of {len(self.matches) + len(self.unmatched_query)} parts"
        extra = (
            f", {len(self.unmatched_record)} record part(s) not in the query"
            if self.unmatched_record
            else ""
        )
        return f"{parts} ({', '.join(rules)}){extra}"


_LONG_I = ("ee", "ei", "ai", "ie", "ey", "ay", "ii", "y")
_LONG_U = ("ou", "oo", "uu", "ow", "au", "w")


def _latin_vowel(gap: str) -> str:
    """The vowel a Latin spelling writes between two consonants: short a/e/i/u or long A+/I+/U+."""
    if not gap:
        return ""
    if any(x in gap for x in _LONG_I):
        return "I+"
    if any(x in gap for x in _LONG_U):
        return "U+"
    if "aa" in gap:
        return "A+"
    first = gap[0]
    return "u" if first in "ou" else first


_COMPATIBLE = {
    "": frozenset({"", "a", "e", "i", "u"}),  # only short vowels, unwritten in Arabic
    "A": frozenset({"a", "A+", "e"}),
    "I": frozenset({"i", "e", "I+"}),
    "U": frozenset({"u", "U+"}),
}


def _gap_compatible(arabic: str, latin: str) -> bool:
    if "E" in arabic:
        return True
    vowel = _latin_vowel(latin)
    if not arabic:
        return vowel in _COMPATIBLE[""]
    return any(vowel in _COMPATIBLE[a] for a in arabic)


def _vowel_mismatches(arabic: tuple[str, ...], latin: tuple[str, ...]) -> int:
    """Gaps where the Latin vowel cannot stand for the Arabic one (حسين is not "Hasan")."""
    return sum(1 for a, lt in zip(arabic, latin, strict=False) if not _gap_compatible(a, lt))


def _same_key_similarity(q: Token, r: Token) -> float:
    if q.script == r.script == "ar":
        # Same consonants in Arabic: the long vowels decide (حسن is not حسين).
        best = 0.0
        for key, gaps in q.patterns:
            for key2, gaps2 in r.patterns:
                if key == key2:
                    best = max(
                        best,
                        0.97 - 0.35 * sum(1 for a, b in zip(gaps, gaps2, strict=False) if a != b),
                    )
        return max(best, 0.55)
    if q.script == r.script:
        return 0.9
    arabic, latin = (q, r) if q.script == "ar" else (r, q)
    best = 0.0
    for key, a_gaps in arabic.patterns:
        for key2, l_gaps in latin.patterns:
            if key == key2:
                best = max(best, 0.95 - 0.35 * _vowel_mismatches(a_gaps, l_gaps))
    return max(best, 0.6)


def _token_similarity(q: Token, r: Token) -> tuple[float, str]:
    if q.script == r.script and fold(q.text) == fold(r.text):
        return 1.0, "same spelling"
    if q.script == "latin" and len(q.text) == 1:
        initial = next(iter(q.keys), "")
        if initial and any(k.startswith(initial) for k in r.keys):
            return 0.85, "initial"
        return 0.0, ""
    if q.keys & r.keys:
        sim = _same_key_similarity(q, r)
        return sim, ("same key" if sim >= 0.95 else "same consonants, other vowels")
    best = 0.0
    for a in q.keys:
        for b in r.keys:
            longest = max(len(a), len(b))
            if longest < 3:
                continue
            if Levenshtein.distance(a, b, score_cutoff=1) <= 1:
                best = max(best, 0.6 if longest >= 4 else 0.45)
    return best, "one edit"


def score(query: NameForm, record: NameForm) -> Match:
    """How well a query name matches one record name, 0..1, and why."""
    if not query.tokens or not record.tokens:
        return Match(0.0)
    pairs: list[tuple[float, int, int, str]] = []
    for qi, q in enumerate(query.tokens):
        for ri, r in enumerate(record.tokens):
            sim, rule = _token_similarity(q, r)
            if sim > 0:
                pairs.append((sim, qi, ri, rule))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_q: set[int] = set()
    used_r: set[int] = set()
    matches: list[TokenMatch] = []
    total = 0.0
    used_q_list: list[int] = []
    used_r_list: list[int] = []
    for sim, qi, ri, rule in pairs:
        if qi in used_q or ri in used_r:
            continue
        used_q.add(qi)
        used_r.add(ri)
        used_q_list.append(qi)
        used_r_list.append(ri)
        total += sim
        matches.append(TokenMatch(query.tokens[qi].text, record.tokens[ri].text, sim, rule))
    nq = len(query.tokens)
    base = total / nq
    # Parts in another order are suspicious (a father's name given as the first name),
    # except the family name moved to the front, as lists often write it.
    order_penalty = 0.0
    matched = sorted(zip(used_q_list, used_r_list, strict=False))
    positions = [ri for _, ri in matched]
    if len(positions) > 2 and positions != sorted(positions):
        rotated = positions[1:] + positions[:1]
        if rotated != sorted(rotated):
            order_penalty = 0.08
    missing = len(record.tokens) - len(used_r)
    penalty = min(MISSING_PART_PENALTY * missing, MAX_MISSING_PENALTY)
    # A one-part query (a single given name) is weak evidence whatever it matches.
    if nq == 1 and len(record.tokens) > 1:
        penalty = max(penalty, 0.25)
    # One clearly different part (Hassan for حسين, Mahmoud for محمد) makes another person.
    conflicting = [
        m.similarity for m in matches if m.rule in ("same consonants, other vowels", "one edit")
    ]
    weak_penalty = 0.5 * max(0.0, 0.9 - min(conflicting)) if conflicting else 0.0
    value = max(0.0, base - penalty - order_penalty - weak_penalty) if matches else 0.0
    return Match(
        round(value, 4),
        tuple(matches),
        tuple(query.tokens[i].text for i in range(nq) if i not in used_q),
        tuple(record.tokens[i].text for i in range(len(record.tokens)) if i not in used_r),
    )


def best_match(query: str, names: list[str]) -> tuple[Match, str] | None:
    """The best-scoring of a record's names for a query, with the name that matched."""
    q = parse(query)
    best: tuple[Match, str] | None = None
    for name in names:
        m = score(q, parse(name))
        if best is None or m.score > best[0].score:
            best = (m, name)
    return best
