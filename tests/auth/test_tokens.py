"""Access tokens: only genuine, unexpired tokens signed with our key and algorithm pass."""

import base64
import json
import uuid
from pathlib import Path

import jwt
import pytest

from core.auth.tokens import AccessTokenExpired, AccessTokens, SigningKeys, load_signing_keys
from core.config import Settings
from core.errors import AuthenticationFailed
from tests.support.clock import FakeClock

HS_KEYS = SigningKeys("HS256", "s" * 40, "s" * 40)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture(params=["RS256", "HS256"])
def keys(request: pytest.FixtureRequest, tmp_path: Path) -> SigningKeys:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, jwt_algorithm=request.param, jwt_secret="s" * 40
    )
    return load_signing_keys(settings)


def _tokens(keys: SigningKeys, clock: FakeClock, issuer: str = "atelier") -> AccessTokens:
    return AccessTokens(keys, issuer=issuer, ttl_seconds=900, now=clock)


def test_a_fresh_token_carries_user_session_and_role(keys: SigningKeys) -> None:
    clock = FakeClock()
    user_id, family_id = uuid.uuid4(), uuid.uuid4()
    token = _tokens(keys, clock).issue(user_id=user_id, family_id=family_id, role="admin")

    claims = _tokens(keys, clock).verify(token)

    assert (claims.user_id, claims.family_id, claims.role) == (user_id, family_id, "admin")
    raw = jwt.decode(token, options={"verify_signature": False})
    assert set(raw) >= {"iss", "sub", "exp", "iat", "jti"}
    assert raw["exp"] - raw["iat"] == 15 * 60


def test_an_expired_token_is_refused(keys: SigningKeys) -> None:
    clock = FakeClock()
    token = _tokens(keys, clock).issue(user_id=uuid.uuid4(), family_id=uuid.uuid4(), role="user")
    clock.advance(minutes=15, seconds=1)
    with pytest.raises(AccessTokenExpired):
        _tokens(keys, clock).verify(token)


def test_a_token_accepted_before_is_refused_once_it_expires(keys: SigningKeys) -> None:
    # Each token's signature is checked once per process; its times on every call.
    clock = FakeClock()
    tokens = _tokens(keys, clock)
    token = tokens.issue(user_id=uuid.uuid4(), family_id=uuid.uuid4(), role="user")
    tokens.verify(token)
    clock.advance(minutes=15, seconds=1)
    with pytest.raises(AccessTokenExpired):
        tokens.verify(token)


def test_a_tampered_payload_is_refused(keys: SigningKeys) -> None:
    clock = FakeClock()
    token = _tokens(keys, clock).issue(user_id=uuid.uuid4(), family_id=uuid.uuid4(), role="user")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    with pytest.raises(AuthenticationFailed):
        _tokens(keys, clock).verify(f"{header}.{_b64(claims)}.{signature}")


def test_alg_none_is_refused(keys: SigningKeys) -> None:
    clock = FakeClock()
    claims = {"iss": "atelier", "sub": str(uuid.uuid4()), "sid": str(uuid.uuid4()), "jti": "x",
              "iat": int(clock().timestamp()), "exp": int(clock().timestamp()) + 600}  # fmt: skip
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(AuthenticationFailed):
        _tokens(keys, clock).verify(forged)


def test_a_token_from_another_issuer_is_refused(keys: SigningKeys) -> None:
    clock = FakeClock()
    token = _tokens(keys, clock, issuer="someone-else").issue(
        user_id=uuid.uuid4(), family_id=uuid.uuid4(), role="user"
    )
    with pytest.raises(AuthenticationFailed):
        _tokens(keys, clock).verify(token)


def test_rs256_public_key_used_as_hmac_secret_is_refused(tmp_path: Path) -> None:
    """The classic algorithm-confusion attack: sign HS256 with the public key."""
    rsa = load_signing_keys(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    clock = FakeClock()
    claims = {"iss": "atelier", "sub": str(uuid.uuid4()), "sid": str(uuid.uuid4()), "jti": "x",
              "iat": int(clock().timestamp()), "exp": int(clock().timestamp()) + 600}  # fmt: skip
    header = _b64({"alg": "HS256", "typ": "JWT"})
    import hashlib
    import hmac

    body = f"{header}.{_b64(claims)}"
    key = _public_pem(tmp_path)
    signature = hmac.new(key, body.encode(), hashlib.sha256).digest()
    forged = f"{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    with pytest.raises(AuthenticationFailed):
        _tokens(rsa, clock).verify(forged)


def _public_pem(data_dir: Path) -> bytes:
    return (data_dir / "keys" / "jwt-public.pem").read_bytes()


def test_rs256_key_pair_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    first = load_signing_keys(settings)
    second = load_signing_keys(settings)
    assert first.verification_key == second.verification_key
    assert (tmp_path / "keys" / "jwt-private.pem").stat().st_mode & 0o777 == 0o600


def test_garbage_is_refused() -> None:
    with pytest.raises(AuthenticationFailed):
        _tokens(HS_KEYS, FakeClock()).verify("not.a.token")
