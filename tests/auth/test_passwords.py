import pytest

from core.auth.passwords import PasswordHasher, check_password_rules, normalize_email
from core.errors import InvalidInput


def test_hash_verifies_only_the_right_password() -> None:
    hasher = PasswordHasher(rounds=4)
    hashed = hasher.hash("correct horse 42")
    assert hashed.startswith("$2b$04$")
    assert hasher.verify("correct horse 42", hashed)
    assert not hasher.verify("correct horse 43", hashed)


def test_unknown_account_still_costs_a_verification_and_fails() -> None:
    assert not PasswordHasher(rounds=4).verify("anything at all 1", None)


def test_cost_change_asks_for_a_rehash() -> None:
    old = PasswordHasher(rounds=4).hash("correct horse 42")
    assert PasswordHasher(rounds=5).needs_rehash(old)
    assert not PasswordHasher(rounds=4).needs_rehash(old)


def test_default_cost_is_twelve() -> None:
    from core.config import Settings

    assert Settings(_env_file=None).bcrypt_rounds == 12  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  Ada@Example.COM ", "ada@example.com"),
        ("bob.smith+art@example.org", "bob.smith+art@example.org"),
    ],
)
def test_emails_are_normalized(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize("raw", ["", "not-an-email", "a@", "@example.com", "a b@example.com"])
def test_invalid_emails_are_refused_in_plain_words(raw: str) -> None:
    with pytest.raises(InvalidInput, match="email address is not valid"):
        normalize_email(raw)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "at least 10 characters"),
        ("onlyletterslong", "Mix letters with digits"),
        ("12345678901234", "Mix letters with digits"),
        ("password123", "too easy to guess"),
        ("aaaaaaaaaa1", "too easy to guess"),
        ("adalovelace-2026", "must not contain your email name"),
        ("x" * 70 + "éé1", "at most 72 bytes"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_password_rules(password, email="adalovelace@example.com", min_length=10)


def test_a_good_password_passes() -> None:
    check_password_rules("correct horse 42", email="ada@example.com", min_length=10)
