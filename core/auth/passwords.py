"""Password hashing (bcrypt) and the rules a new password must meet."""

from __future__ import annotations

import bcrypt
from email_validator import EmailNotValidError, validate_email

from core.errors import InvalidInput
from core.storable import require_storable

# bcrypt only reads the first 72 bytes; longer passwords would be silently truncated.
MAX_PASSWORD_BYTES = 72

_COMMON_PASSWORDS = frozenset(
    {
        "password", "password1", "password12", "password123", "password1234", "123456789",
        "1234567890", "12345678910", "qwertyuiop", "qwerty1234", "iloveyou12", "letmein123",
        "welcome123", "admin12345", "changeme12", "abc1234567", "passw0rd12", "1q2w3e4r5t",
    }
)  # fmt: skip


class PasswordHasher:
    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        # Verifying against this when the account does not exist keeps the answer time the same,
        # so response times do not reveal which emails are registered.
        self._dummy_hash = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds))

    def hash(self, password: str) -> str:
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(self.rounds)).decode()

    def verify(self, password: str, password_hash: str | None) -> bool:
        # A lone surrogate cannot be UTF-8: such a password was never accepted, so it simply
        # does not match (its "surrogatepass" bytes are no valid UTF-8 text's).
        candidate = password.encode("utf-8", "surrogatepass")[:MAX_PASSWORD_BYTES]
        if password_hash is None:
            bcrypt.checkpw(candidate, self._dummy_hash)
            return False
        return bcrypt.checkpw(candidate, password_hash.encode())

    def needs_rehash(self, password_hash: str) -> bool:
        # The cost sits in the hash: "$2b$12$...".
        return int(password_hash.split("$")[2]) != self.rounds


def normalize_email(email: str) -> str:
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput(f"That email address is not valid: {error}") from None
    return result.normalized.lower()


def check_password_rules(password: str, *, email: str, min_length: int) -> None:
    require_storable(password, "The password")
    if len(password) < min_length:
        raise InvalidInput(f"Use at least {min_length} characters for your password.")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise InvalidInput(f"Use at most {MAX_PASSWORD_BYTES} bytes for your password.")
    if password.isalpha() or password.isdigit():
        raise InvalidInput("Mix letters with digits or symbols in your password.")
    if password.lower() in _COMMON_PASSWORDS or len(set(password)) < 4:
        raise InvalidInput("That password is too easy to guess. Choose another one.")
    local_part = email.split("@", 1)[0]
    if len(local_part) >= 4 and local_part in password.lower():
        raise InvalidInput("Your password must not contain your email name.")
