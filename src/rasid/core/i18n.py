"""Interface languages (Arabic first, English) through Babel message catalogues.

The ``.po`` files under ``rasid/translations`` are read at start-up and compiled in
memory, so there is no separate compile step and no stale ``.mo`` file. The language
of the current request or command lives in a context variable.
"""

from __future__ import annotations

import gettext as _gettext
import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES: tuple[str, ...] = ("ar", "en")
DEFAULT_LANGUAGE = "ar"
RTL_LANGUAGES = frozenset({"ar"})
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

_current: ContextVar[str] = ContextVar("rasid_language", default=DEFAULT_LANGUAGE)


@cache
def catalogue(language: str) -> _gettext.NullTranslations:
    path = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def set_language(language: str) -> None:
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def get_language() -> str:
    return _current.get()


def is_rtl(language: str | None = None) -> bool:
    return (language or get_language()) in RTL_LANGUAGES


def gettext(message: str) -> str:
    return catalogue(get_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(get_language()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message
