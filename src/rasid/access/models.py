"""The protected-row mixin and the grant table behind releasability and named recipients."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from rasid.access.markings import MARKINGS
from rasid.core.db import Base


class Protected:
    """Mixin for every protected row: owner organisation and TLP 2.0 marking.

    Releasable-to organisations and named recipients live in :class:`AccessGrant`,
    keyed by the row's ``__access_type__`` and ``id``. Every read goes through
    :func:`rasid.access.service.visible_filter`.
    """

    __access_type__: str

    id: Mapped[int]

    @declared_attr
    def owner_org_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("organisation.id"), index=True)

    @declared_attr
    def marking(cls) -> Mapped[str]:
        allowed = ", ".join(f"'{m}'" for m in MARKINGS)
        return mapped_column(
            String(20), CheckConstraint(f"marking IN ({allowed})", name="marking"), index=True
        )


class AccessGrant(Base):
    """One releasable-to organisation (``org_id``) or one named recipient (``user_id``)."""

    __tablename__ = "access_grant"
    __table_args__ = (
        CheckConstraint("(org_id IS NULL) <> (user_id IS NULL)", name="one_principal"),
        Index("ix_access_grant_object", "object_type", "object_id"),
        Index("ix_access_grant_org", "org_id", "object_type", "object_id"),
        Index("ix_access_grant_user", "user_id", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int] = mapped_column(Integer)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
