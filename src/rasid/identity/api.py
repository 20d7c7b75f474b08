"""JSON routes for identity: me, organisations, users, tokens, sessions."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select

from rasid.identity import service
from rasid.identity.models import User
from rasid.identity.schemas import (
    MeOut,
    NewTokenOut,
    OrgIn,
    OrgOut,
    OrgPatch,
    PasswordChange,
    SessionOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from rasid.web.deps import DB, ApiActor

router = APIRouter(prefix="/api/v1", tags=["identity"])


@router.get("/me", response_model=MeOut)
def me(db: DB, actor: ApiActor) -> MeOut:
    user = service.current_user(db, actor)
    return MeOut(
        username=user.username,
        org=OrgOut.of(user.org),
        roles=user.roles,
        language=user.language,
        mfa_enabled=user.mfa_enabled,
        via=actor.via,
    )


@router.get("/organisations", response_model=list[OrgOut])
def list_orgs(db: DB, actor: ApiActor) -> list[OrgOut]:
    return [OrgOut.of(o) for o in service.list_orgs(db)]


@router.post("/organisations", response_model=OrgOut, status_code=201)
def create_org(body: OrgIn, db: DB, actor: ApiActor) -> OrgOut:
    return OrgOut.of(service.create_org(db, actor, **body.model_dump()))


@router.get("/organisations/{slug}", response_model=OrgOut)
def get_org(slug: str, db: DB, actor: ApiActor) -> OrgOut:
    return OrgOut.of(service.get_org(db, slug))


@router.patch("/organisations/{slug}", response_model=OrgOut)
def update_org(slug: str, body: OrgPatch, db: DB, actor: ApiActor) -> OrgOut:
    return OrgOut.of(service.update_org(db, actor, slug, **body.model_dump(exclude_unset=True)))


@router.get("/users", response_model=list[UserOut])
def list_users(db: DB, actor: ApiActor) -> list[UserOut]:
    return [UserOut.of(u) for u in service.list_users(db, actor)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, db: DB, actor: ApiActor) -> UserOut:
    data = body.model_dump()
    data["org_slug"] = data.pop("org")
    return UserOut.of(service.create_user(db, actor, **data))


@router.get("/users/{username}", response_model=UserOut)
def get_user(username: str, db: DB, actor: ApiActor) -> UserOut:
    if username.lower() != actor.username:
        service.require(actor, "administer")
    return UserOut.of(service.get_user(db, username))


@router.patch("/users/{username}", response_model=UserOut)
def update_user(username: str, body: UserPatch, db: DB, actor: ApiActor) -> UserOut:
    data = body.model_dump(exclude_unset=True)
    if "org" in data:
        data["org_slug"] = data.pop("org")
    return UserOut.of(service.update_user(db, actor, username, **data))


@router.post("/users/{username}/disable", response_model=UserOut)
def disable_user(username: str, db: DB, actor: ApiActor) -> UserOut:
    return UserOut.of(service.disable_user(db, actor, username))


@router.post("/me/password", status_code=204)
def change_password(body: PasswordChange, db: DB, actor: ApiActor) -> Response:
    service.set_password(
        db, actor, actor.username, body.new_password, current_password=body.current_password
    )
    return Response(status_code=204)


def _usernames(db: DB, ids: set[int]) -> dict[int, str]:
    rows = db.execute(select(User.id, User.username).where(User.id.in_(ids))).all() if ids else []
    return {r[0]: r[1] for r in rows}


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(db: DB, actor: ApiActor, all: bool = False) -> list[TokenOut]:
    rows = service.list_tokens(db, actor, all_users=all)
    names = _usernames(db, {r.user_id for r in rows})
    return [TokenOut.of(r, names.get(r.user_id, "")) for r in rows]


@router.post("/tokens", response_model=NewTokenOut, status_code=201)
def create_token(body: TokenIn, db: DB, actor: ApiActor) -> NewTokenOut:
    username = body.username or actor.username
    new = service.create_token(db, actor, username, name=body.name, expires_days=body.expires_days)
    base = TokenOut.of(new.row, username.lower())
    return NewTokenOut(**base.model_dump(), token=new.plaintext)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, db: DB, actor: ApiActor) -> Response:
    service.revoke_token(db, actor, token_id)
    return Response(status_code=204)


@router.get("/sessions", response_model=list[SessionOut])
def list_sessions(db: DB, actor: ApiActor) -> list[SessionOut]:
    assert actor.user_id is not None
    return [SessionOut.of(s, actor.session_id) for s in service.list_sessions(db, actor.user_id)]


@router.delete("/sessions/{session_id}", status_code=204)
def end_session(session_id: int, db: DB, actor: ApiActor) -> Response:
    service.end_session(db, actor, session_id, reason="ended_by_user")
    return Response(status_code=204)
