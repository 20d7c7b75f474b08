"""API shapes for identity."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from rasid.identity.models import ApiToken, Organisation, User, WebSession


class OrgIn(BaseModel):
    slug: str = Field(examples=["moi-ct"])
    name_ar: str
    name_en: str
    country: str = Field(examples=["YE"], description="ISO 3166-1 alpha-2")
    kind: str = "agency"
    in_community: bool = True


class OrgPatch(BaseModel):
    name_ar: str | None = None
    name_en: str | None = None
    country: str | None = None
    kind: str | None = None
    in_community: bool | None = None
    active: bool | None = None


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    name_ar: str
    name_en: str
    country: str
    kind: str
    in_community: bool
    active: bool

    @classmethod
    def of(cls, org: Organisation) -> OrgOut:
        return cls.model_validate(org)


class UserIn(BaseModel):
    username: str
    org: str = Field(description="organisation slug")
    roles: list[str]
    password: str = Field(min_length=1, description="12 characters or more")
    display_name_ar: str = ""
    display_name_en: str = ""
    language: str = "ar"


class UserPatch(BaseModel):
    org: str | None = None
    roles: list[str] | None = None
    display_name_ar: str | None = None
    display_name_en: str | None = None
    active: bool | None = None


class UserOut(BaseModel):
    username: str
    org: str
    roles: list[str]
    active: bool
    display_name_ar: str
    display_name_en: str
    language: str
    mfa_enabled: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            username=user.username,
            org=user.org.slug,
            roles=user.roles,
            active=user.active,
            display_name_ar=user.display_name_ar,
            display_name_en=user.display_name_en,
            language=user.language,
            mfa_enabled=user.mfa_enabled,
        )


class PasswordChange(BaseModel):
    current_password: str
    new_password: str


class TokenIn(BaseModel):
    name: str = ""
    expires_days: int = 90
    username: str | None = Field(
        default=None, description="administrators only: another user's token"
    )


class TokenOut(BaseModel):
    id: int
    user: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked: bool

    @classmethod
    def of(cls, token: ApiToken, username: str) -> TokenOut:
        return cls(
            id=token.id,
            user=username,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked=token.revoked_at is not None,
        )


class NewTokenOut(TokenOut):
    token: str = Field(description="shown once; store it now")


class SessionOut(BaseModel):
    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    address: str | None
    user_agent: str | None
    current: bool

    @classmethod
    def of(cls, row: WebSession, current_id: int | None) -> SessionOut:
        return cls(
            id=row.id,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            address=row.address,
            user_agent=row.user_agent,
            current=row.id == current_id,
        )


class MeOut(BaseModel):
    username: str
    org: OrgOut
    roles: list[str]
    language: str
    mfa_enabled: bool
    via: str
