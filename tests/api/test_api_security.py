"""Security of the API on the running server: forged, expired and unsigned tokens, revoked and
disabled keys, refresh-token replay, and one user reaching for another's generations. Every
refusal is a 401 (or the same 404 as for an unknown id) with words, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from core.auth.tokens import AccessTokens, load_signing_keys
from core.services import Services
from tests.api.conftest import Caller, sign_up
from tests.support.app_server import AppServer
from tests.support.server_core import account_of, server_services

SESSION_INVALID = "Your session is not valid. Please log in again."
SESSION_EXPIRED = "Your session has expired. Please log in again."
KEY_REFUSED = "This API key is not valid, or it was revoked."


@pytest.fixture(scope="module")
def server_core(api_server: AppServer) -> Iterator[Services]:
    with server_services(api_server) as built:
        yield built


def _bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def _refused(answer: httpx.Response, message: str) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.json() == {"detail": message}
    assert answer.headers["www-authenticate"] == "Bearer"


def _segment(document: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def _new_key(http: httpx.Client, caller: Caller, name: str = "script") -> dict[str, str]:
    created = http.post("/users/me/api-keys", json={"name": name}, headers=caller.headers)
    assert created.status_code == 201, created.text
    body: dict[str, str] = created.json()
    return body


def test_a_token_with_a_tampered_signature_is_refused(http: httpx.Client, caller: Caller) -> None:
    header, payload, signature = caller.access_token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    _refused(
        http.get("/users/me", headers=_bearer(f"{header}.{payload}.{flipped}")), SESSION_INVALID
    )


def test_a_token_with_tampered_claims_is_refused(
    http: httpx.Client, caller: Caller, admin: Caller
) -> None:
    header, _claims, signature = caller.access_token.split(".")
    claims = jwt.decode(caller.access_token, options={"verify_signature": False})
    forged = _segment(claims | {"sub": str(admin.id), "role": "admin"})
    _refused(
        http.get("/users/me", headers=_bearer(f"{header}.{forged}.{signature}")), SESSION_INVALID
    )


def test_an_unsigned_alg_none_token_is_refused(http: httpx.Client, caller: Caller) -> None:
    claims = jwt.decode(caller.access_token, options={"verify_signature": False})
    for alg in ("none", "None", "NONE"):
        unsigned = f"{_segment({'alg': alg, 'typ': 'JWT'})}.{_segment(claims)}."
        _refused(http.get("/users/me", headers=_bearer(unsigned)), SESSION_INVALID)


def test_a_token_signed_with_the_public_key_as_an_hs256_secret_is_refused(
    http: httpx.Client, caller: Caller, api_server: AppServer
) -> None:
    public_pem = (Path(api_server.env["DATA_DIR"]) / "keys" / "jwt-public.pem").read_bytes()
    claims = jwt.decode(caller.access_token, options={"verify_signature": False})
    # PyJWT refuses to sign with a PEM as an HMAC secret; build the token by hand.
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{_segment(claims)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    confused = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    _refused(http.get("/users/me", headers=_bearer(confused)), SESSION_INVALID)


def test_an_expired_token_signed_with_the_servers_own_key_is_refused(
    http: httpx.Client, caller: Caller, server_core: Services
) -> None:
    claims = jwt.decode(caller.access_token, options={"verify_signature": False})
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    tokens = AccessTokens(
        load_signing_keys(server_core.settings),
        issuer=server_core.settings.jwt_issuer,
        ttl_seconds=server_core.settings.access_token_ttl_seconds,
        now=lambda: an_hour_ago,
    )
    expired = tokens.issue(user_id=caller.id, family_id=uuid.UUID(claims["sid"]), role="user")
    # The same key minting a fresh token is accepted: only the age is wrong above.
    fresh = AccessTokens(
        load_signing_keys(server_core.settings),
        issuer=server_core.settings.jwt_issuer,
        ttl_seconds=60,
        now=lambda: datetime.now(UTC),
    ).issue(user_id=caller.id, family_id=uuid.UUID(claims["sid"]), role="user")

    _refused(http.get("/users/me", headers=_bearer(expired)), SESSION_EXPIRED)
    assert http.get("/users/me", headers=_bearer(fresh)).status_code == 200


def test_garbage_credentials_are_a_401_with_words(http: httpx.Client) -> None:
    for credential in (b"not-a-token", b"a.b.c", b"atelier_" + b"x" * 43, "é".encode() * 20):
        answer = http.get("/users/me", headers={b"Authorization": b"Bearer " + credential})
        assert answer.status_code == 401, (credential, answer.text)
        assert answer.json()["detail"]
    answer = http.get("/users/me")
    assert answer.status_code == 401
    assert answer.json()["detail"].startswith("Sign in first")


def test_an_api_key_works_as_bearer_and_as_x_api_key_until_revoked(
    http: httpx.Client, caller: Caller
) -> None:
    key = _new_key(http, caller)

    for headers in (_bearer(key["key"]), {"X-API-Key": key["key"]}):
        me = http.get("/users/me", headers=headers)
        assert (me.status_code, me.json()["email"]) == (200, caller.email)

    assert http.delete(f"/users/me/api-keys/{key['id']}", headers=caller.headers).status_code == 204
    _refused(http.get("/users/me", headers=_bearer(key["key"])), KEY_REFUSED)
    _refused(http.get("/users/me", headers={"X-API-Key": key["key"]}), KEY_REFUSED)


def test_a_key_cannot_be_revoked_by_another_user(http: httpx.Client, caller: Caller) -> None:
    key = _new_key(http, caller)
    other = sign_up(http, "other")

    answer = http.delete(f"/users/me/api-keys/{key['id']}", headers=other.headers)

    assert answer.status_code == 404
    assert answer.json() == {"detail": "That API key does not exist or is not yours."}
    assert http.get("/users/me", headers={"X-API-Key": key["key"]}).status_code == 200


def test_the_key_of_a_disabled_user_stops_working_at_once(
    http: httpx.Client, caller: Caller, admin: Caller, server_core: Services
) -> None:
    key = _new_key(http, caller)
    assert http.get("/users/me", headers={"X-API-Key": key["key"]}).status_code == 200
    root = account_of(server_core, admin.id)

    server_core.admin.set_active(root, caller.id, False)

    disabled = "This account is disabled. Contact an administrator."
    _refused(http.get("/users/me", headers={"X-API-Key": key["key"]}), disabled)
    assert http.get("/users/me", headers=caller.headers).status_code == 401


def test_reusing_a_rotated_refresh_token_ends_the_whole_session(
    http: httpx.Client, caller: Caller
) -> None:
    first = http.post("/auth/refresh", json={"refreshToken": caller.refresh_token})
    assert first.status_code == 200, first.text
    newer = first.json()

    replay = http.post("/auth/refresh", json={"refreshToken": caller.refresh_token})

    assert replay.status_code == 401, replay.text
    assert replay.json()["detail"]
    # The family is revoked: the token handed out by the rotation and its access token too.
    assert (
        http.post("/auth/refresh", json={"refreshToken": newer["refreshToken"]}).status_code == 401
    )
    assert http.get("/users/me", headers=_bearer(newer["accessToken"])).status_code == 401
    assert http.get("/users/me", headers=caller.headers).status_code == 401


# Another user's generations: the seeds' image routes and the admin listings.


@pytest.fixture
def owners_image(http: httpx.Client, caller: Caller) -> str:
    made = http.post(
        "/image/generate",
        json={"prompt": "a private lighthouse", "size": "256x256", "seed": 7, "model": "sketch-v2"},
        headers=caller.headers,
    )
    assert made.status_code == 200, made.text
    image_id: str = made.json()["id"]
    assert http.get(f"/image/{image_id}", headers=caller.headers).status_code == 200
    return image_id


def test_another_user_gets_the_same_404_as_for_an_unknown_id(
    http: httpx.Client, owners_image: str
) -> None:
    stranger = sign_up(http, "stranger")
    for path in (f"/image/{owners_image}", f"/image/{owners_image}/download"):
        theirs = http.get(path, headers=stranger.headers, follow_redirects=False)
        unknown = http.get(path.replace(owners_image, str(uuid.uuid4())), headers=stranger.headers)
        assert theirs.status_code == unknown.status_code == 404, (path, theirs.text)
        assert theirs.json() == unknown.json()


def test_admin_routes_refuse_a_plain_user(http: httpx.Client, owners_image: str) -> None:
    stranger = sign_up(http, "stranger")

    for path in ("/admin/images", "/admin/audios", "/admin/api-keys"):
        answer = http.get(path, headers=stranger.headers)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["detail"]
        assert owners_image not in answer.text
    revoke = http.delete(f"/admin/api-keys/{uuid.uuid4()}", headers=stranger.headers)
    assert revoke.status_code == 403
