"""A protected table used only by the tests of the access rule (created beside the real schema)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from rasid.access.models import Protected
from rasid.core.db import Base


class Dossier(Protected, Base):
    __tablename__ = "test_dossier"
    __access_type__ = "test_dossier"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
