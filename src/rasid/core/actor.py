"""Who is acting: the value every service receives instead of an HTTP request.

Services take an :class:`Actor` so they can apply the access rule and write the
audit log without knowing whether the call came from a page, the API, a TAXII
client or the command line.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from rasid.core.i18n import N_

ROLES: tuple[str, ...] = (
    "admin",
    "analyst",
    "liaison",
    "maritime",
    "training",
    "logistics",
    "auditor",
    "viewer",
)

# Interface labels (gettext msgids; the catalogue holds the Arabic).
ROLE_LABELS: dict[str, str] = {
    "admin": N_("Administrator"),
    "analyst": N_("Analyst"),
    "liaison": N_("Liaison officer"),
    "maritime": N_("Maritime watch officer"),
    "training": N_("Training officer"),
    "logistics": N_("Logistics officer"),
    "auditor": N_("Auditor"),
    "viewer": N_("Viewer"),
}

# What each role may do. Markings decide what a user may *see*; these decide what a
# user may *do*. Every role may read what the markings let it see.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "administer"}),
    "analyst": frozenset({"read", "write"}),
    "liaison": frozenset({"read", "write", "release"}),
    "maritime": frozenset({"read", "write"}),
    "training": frozenset({"read", "write"}),
    "logistics": frozenset({"read", "write"}),
    "auditor": frozenset({"read", "audit"}),
    "viewer": frozenset({"read"}),
}


@dataclass(frozen=True)
class Actor:
    """The user (or system account) on whose behalf a service call runs."""

    user_id: int | None
    username: str
    org_id: int | None
    roles: frozenset[str]
    via: str  # "session", "token", "cli", "system", "anonymous"
    session_id: int | None = None
    token_id: int | None = None
    address: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    language: str = "ar"
    org_in_community: bool = True

    @property
    def is_system(self) -> bool:
        return self.via == "system"

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None or self.is_system

    def can(self, permission: str) -> bool:
        if self.is_system:
            return True
        return any(permission in PERMISSIONS.get(role, frozenset()) for role in self.roles)

    def has_role(self, role: str) -> bool:
        return role in self.roles


def system_actor(*, address: str | None = "local", request_id: str | None = None) -> Actor:
    """The local system account used by the CLI without ``--as``; audited as ``system``."""
    return Actor(
        user_id=None,
        username="system",
        org_id=None,
        roles=frozenset(ROLES),
        via="system",
        address=address,
        request_id=request_id or uuid.uuid4().hex,
    )


def anonymous_actor(*, address: str | None, request_id: str | None = None) -> Actor:
    return Actor(
        user_id=None,
        username="",
        org_id=None,
        roles=frozenset(),
        via="anonymous",
        address=address,
        request_id=request_id or uuid.uuid4().hex,
    )
