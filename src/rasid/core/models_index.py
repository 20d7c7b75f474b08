"""Imports every context's models so that ``Base.metadata`` knows every table.

Used by Alembic (autogenerate and the schema checks in tests); a new context adds
its ``models`` module here.
"""

from __future__ import annotations

from rasid.access import models as access_models
from rasid.audit import models as audit_models
from rasid.core.db import Base
from rasid.identity import models as identity_models
from rasid.intel import models as intel_models
from rasid.logistics import models as logistics_models
from rasid.maritime import models as maritime_models
from rasid.registry import models as registry_models
from rasid.training import models as training_models

__all__ = [
    "Base",
    "access_models",
    "audit_models",
    "identity_models",
    "intel_models",
    "logistics_models",
    "maritime_models",
    "registry_models",
    "training_models",
]
