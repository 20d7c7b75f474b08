"""Errors that services raise and every interface (API, page, CLI) renders the same way."""

from __future__ import annotations

from collections.abc import Callable


class Term(str):
    """A message parameter that is itself a msgid (a status, a kind …): pages translate it
    with the message, so an Arabic sentence does not carry an English word."""

    __slots__ = ()


class RasidError(Exception):
    """Base error: a stable machine code, a human message, optionally the field at fault."""

    code = "error"
    status = 400
    # Set when the failure itself must be audited (a refused access). The interface
    # layer writes it after rolling the failed unit of work back.
    audit: dict[str, object] | None = None

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        **params: object,
    ) -> None:
        # ``message`` is an English gettext msgid with %(name)s placeholders; pages
        # translate the template and fill in ``params``, the API and CLI use ``message``.
        self.template = message
        self.params = params
        self.message = message % params if params else message
        super().__init__(self.message)
        self.field = field
        if code is not None:
            self.code = code

    def translated(self, gettext: Callable[[str], str]) -> str:
        template = gettext(self.template)
        params = {k: gettext(v) if isinstance(v, Term) else v for k, v in self.params.items()}
        try:
            return template % params if params else template
        except (KeyError, ValueError, TypeError):
            return self.message

    def as_dict(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class ConfigError(RasidError):
    code = "config_error"
    status = 500


class ValidationFailed(RasidError):
    code = "invalid"
    status = 422


class NotFound(RasidError):
    code = "not_found"
    status = 404


class Conflict(RasidError):
    code = "conflict"
    status = 409


class AuthenticationRequired(RasidError):
    code = "authentication_required"
    status = 401


class Forbidden(RasidError):
    code = "forbidden"
    status = 403


class TooManyAttempts(RasidError):
    code = "too_many_attempts"
    status = 429

    def __init__(self, message: str, *, retry_after_seconds: int, **params: object) -> None:
        super().__init__(message)
        self.params = params
        self.message = message % params if params else message
        self.args = (self.message,)
        self.retry_after_seconds = retry_after_seconds
