"""Password hashing (argon2id), password policy, opaque secrets and TOTP."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from rasid.core.errors import ValidationFailed

PASSWORD_MIN = 12
PASSWORD_MAX = 1024  # well above the 64 that must be allowed; bounds hashing cost

# A few of the most common passwords that pass the length rule (NIST SP 800-63B
# asks for a blocklist instead of composition rules).
_COMMON = frozenset(
    {
        "123456789012",
        "password1234",
        "passwordpassword",
        "qwertyuiop12",
        "administrator",
        "changemechangeme",
        "letmein123456",
        "111111111111",
        "000000000000",
        "qwerty123456",
        "iloveyou1234",
        "welcome12345",
    }
)

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)
_DUMMY_HASH = _hasher.hash("dummy password for timing equalisation")


def set_hash_cost(*, time_cost: int, memory_kib: int) -> None:
    """Change the argon2id cost (the test suite lowers it; production keeps the default).

    Existing hashes stay valid; a hash made with other parameters is re-hashed at the
    next successful sign-in.
    """
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _DUMMY_HASH = _hasher.hash("dummy password for timing equalisation")


def check_password_policy(password: str, *, username: str = "") -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(
            "The password must be at least %(min)s characters long.",
            field="password",
            min=PASSWORD_MIN,
        )
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed(
            "The password must be at most %(max)s characters long.",
            field="password",
            max=PASSWORD_MAX,
        )
    lowered = password.lower()
    if lowered in _COMMON or (username and username.lower() in lowered):
        raise ValidationFailed(
            "This password is too easy to guess; choose another.", field="password"
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-work check: a missing account still costs one argon2 verification."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """SHA-256 of a high-entropy secret (session cookie, API token) for storage."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def hmac_token(key: str, message: str) -> str:
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


# --- TOTP ------------------------------------------------------------------------------

TOTP_ISSUER = "Rasid"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_match(
    secret: str, code: str, *, last_step: int | None, now: float | None = None
) -> int | None:
    """Return the time step the code belongs to, or None.

    Accepts the current step and one on either side (clock drift) but never a step at
    or before ``last_step``: a code can be used once.
    """
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // totp.interval)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if equal(totp.generate_otp(step), code):
            return int(step)
    return None
