"""TLP 2.0 markings (FIRST, 2022) as Rasid stores them."""

from __future__ import annotations

CLEAR = "TLP:CLEAR"
GREEN = "TLP:GREEN"
AMBER = "TLP:AMBER"
AMBER_STRICT = "TLP:AMBER+STRICT"
RED = "TLP:RED"

MARKINGS: tuple[str, ...] = (CLEAR, GREEN, AMBER, AMBER_STRICT, RED)

# Reads of these markings are written to the audit log.
AUDITED_READ_MARKINGS: frozenset[str] = frozenset({AMBER, AMBER_STRICT, RED})

# Markings whose rows may carry a releasable-to list of organisations.
RELEASABLE_MARKINGS: frozenset[str] = frozenset({AMBER})

# Markings that may leave this server (exports to partners, TAXII, MISP feeds).
MAY_LEAVE_SERVER: frozenset[str] = frozenset({CLEAR, GREEN, AMBER})


def normalise_marking(value: str) -> str:
    """Accept ``amber+strict``, ``TLP:Amber+Strict``, ``white`` (TLP 1.0 name of CLEAR)…"""
    raw = value.strip().upper().replace(" ", "")
    if not raw.startswith("TLP:"):
        raw = "TLP:" + raw
    if raw == "TLP:WHITE":
        raw = CLEAR
    if raw not in MARKINGS:
        from rasid.core.errors import ValidationFailed

        raise ValidationFailed(
            "Unknown marking %(value)s; use one of TLP:CLEAR, TLP:GREEN, TLP:AMBER, "
            "TLP:AMBER+STRICT, TLP:RED.",
            field="marking",
            value=value,
        )
    return raw
