"""Tokens (§10): Ed25519 signatures checked with public keys only, one audience per service,
short lifetimes with a small leeway, and each key bounded to what it may sign: a service's
key only that service, a staff issuer's key never a service."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.errors import Unauthorized
from complaint_runtime.identity import ServiceCaller, TokenVerifier, issue_token
from complaint_runtime.settings import ServiceSettings
from complaint_runtime.signing_keys import SigningKey, TrustedKeys, jwks, main
from pydantic import ValidationError


@pytest.fixture(scope="module")
def identity() -> DevIdentity:
    return DevIdentity.generate()


@pytest.fixture
def jwks_server(identity: DevIdentity) -> Iterator[str]:
    """An identity provider's JWKS endpoint on loopback (the staff issuer's public key)."""
    body = json.dumps(jwks([identity.staff])).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()


def test_a_staff_token_verifies_for_its_audience_only(identity: DevIdentity) -> None:
    token = identity.token(subject="lead-1", roles=["lead"], audience="routing", team="billing")
    principal = identity.verifier("routing").verify(token)
    assert (principal.subject, principal.roles, principal.team) == (
        "lead-1",
        frozenset({"lead"}),
        "billing",
    )
    assert principal.service is None
    with pytest.raises(Unauthorized, match=r"not for this service \(sla-watch\)"):
        identity.verifier("sla-watch").verify(token)


def test_a_token_for_several_audiences_is_accepted_by_each(identity: DevIdentity) -> None:
    token = identity.token(subject="a", roles=["agent"], audience=["routing", "console"])
    for audience in ("routing", "console"):
        assert identity.verifier(audience).verify(token).subject == "a"
    with pytest.raises(Unauthorized):
        identity.verifier("intake").verify(token)


def test_expiry_has_a_small_leeway(identity: DevIdentity) -> None:
    key = identity.staff
    now = int(time.time())

    def signed(exp: int) -> str:
        claims = {"iss": "opencomplaints", "sub": "a", "aud": "routing", "roles": ["agent"]}
        claims |= {"iat": now - 600, "exp": exp}
        return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})

    verifier = identity.verifier("routing")
    assert verifier.verify(signed(now - 10)).subject == "a"  # within 30 s
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(signed(now - 60))


def test_a_key_nobody_published_is_refused(identity: DevIdentity) -> None:
    stranger = SigningKey.generate(identity.staff.kid)  # same kid, another key
    forged = issue_token(key=stranger, subject="admin-1", roles=["admin"], audience="routing")
    with pytest.raises(Unauthorized, match="not valid"):
        identity.verifier("routing").verify(forged)
    unknown = SigningKey.generate("someone-else")
    token = issue_token(key=unknown, subject="admin-1", roles=["admin"], audience="routing")
    with pytest.raises(Unauthorized, match="does not trust"):
        identity.verifier("routing").verify(token)


def test_hs256_and_unsigned_tokens_are_refused(identity: DevIdentity) -> None:
    claims = {"iss": "opencomplaints", "sub": "x", "aud": "routing", "roles": ["admin"]}
    claims |= {"iat": int(time.time()), "exp": int(time.time()) + 60}
    public = identity.staff.public_jwk()["x"]  # the algorithm-confusion attack's HMAC key
    for token in (
        jwt.encode(claims, public, algorithm="HS256", headers={"kid": identity.staff.kid}),
        jwt.encode(claims, None, algorithm="none", headers={"kid": identity.staff.kid}),
    ):
        with pytest.raises(Unauthorized):
            identity.verifier("routing").verify(token)


def test_a_service_key_speaks_only_for_its_service(identity: DevIdentity) -> None:
    feedback = identity.services["feedback"]
    # feedback is internet-facing: its key must not mint an admin, nor notify's identity.
    for subject, roles in (("admin-1", ["admin"]), ("notify", ["service"])):
        with pytest.raises(ValueError, match="signs only the identity of feedback"):
            issue_token(key=feedback, subject=subject, roles=roles, audience="intake")
        claims = {"iss": "opencomplaints", "sub": subject, "aud": "intake", "roles": roles}
        claims |= {"iat": int(time.time()), "exp": int(time.time()) + 60}
        token = jwt.encode(claims, feedback.private_key, "EdDSA", headers={"kid": feedback.kid})
        with pytest.raises(Unauthorized, match="signs only the identity of feedback"):
            identity.verifier("intake").verify(token)
    token = identity.service_token(caller="notify", audience="intake")
    assert identity.verifier("intake").verify(token).service == "notify"


def test_a_staff_issuer_may_not_sign_a_service_identity(identity: DevIdentity) -> None:
    console = identity.services["console"]
    with pytest.raises(ValueError, match="staff issuer"):
        issue_token(key=console, subject="notify", roles=["service"], audience="intake")
    token = issue_token(key=console, subject="lead-1", roles=["lead"], audience="routing")
    assert identity.verifier("routing").verify(token).subject == "lead-1"


def test_a_service_caller_signs_short_tokens_per_audience(identity: DevIdentity) -> None:
    caller = ServiceCaller(identity.services["notify"], ttl_s=60)
    token = caller.token_for("intake")
    assert caller.token_for("intake") == token  # reused within half its lifetime
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["sub"], claims["aud"], claims["exp"] - claims["iat"]) == ("notify", "intake", 60)
    assert identity.verifier("intake").verify(token).service == "notify"
    with pytest.raises(Unauthorized):
        identity.verifier("feedback").verify(token)
    with pytest.raises(ValueError, match="not a service's key"):
        _ = ServiceCaller(identity.staff).name


def test_settings_take_public_keys_only(identity: DevIdentity) -> None:
    settings = ServiceSettings(service_name="intake", **_lower(identity.env("intake")))
    assert settings.audience == "intake"
    leaked = json.dumps({"keys": [json.loads(identity.staff.private_jwk())]})
    with pytest.raises(ValidationError, match="holds a private key"):
        ServiceSettings(auth_jwks=leaked)
    with pytest.raises(ValidationError, match="AUTH_SIGNING_KEY"):
        ServiceSettings(auth_signing_key='{"kty": "oct", "k": "c2VjcmV0"}')
    with pytest.raises(ValidationError, match="Web Key Set"):
        ServiceSettings(auth_jwks='{"kid": "x"}')


def test_the_key_command_makes_a_key_and_its_public_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["new", "service:notify"]) == 0
    private = capsys.readouterr().out
    key = SigningKey.from_jwk(private)
    assert key.kid == "service:notify"
    monkeypatch.setattr("sys.stdin", iter([private]))
    assert main(["public"]) == 0
    published = json.loads(capsys.readouterr().out)
    assert published == jwks([key])
    assert "d" not in published["keys"][0]
    assert TrustedKeys.parse(json.dumps(published)).get("service:notify") is not None


def test_an_identity_providers_jwks_url_is_fetched_for_unknown_keys(
    identity: DevIdentity, jwks_server: str
) -> None:
    verifier = TokenVerifier(
        audience="routing",
        trusted=TrustedKeys.parse(""),
        provider_jwks_url=jwks_server,
        provider_issuer="https://idp.example.com",
    )
    token = issue_token(
        key=identity.staff,
        subject="li",
        roles=["agent"],
        audience="routing",
        issuer="https://idp.example.com",
    )
    assert asyncio.run(verifier.verify_async(token)).subject == "li"
    with pytest.raises(Unauthorized, match="does not trust"):
        other = SigningKey.generate("not-published")
        token = issue_token(key=other, subject="li", roles=["agent"], audience="routing")
        asyncio.run(verifier.verify_async(token))


def _lower(env: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in env.items()}


def test_a_rotated_service_key_keeps_the_service_it_speaks_for() -> None:
    rotated = SigningKey.generate("service:notify#2027-01")
    token = issue_token(key=rotated, subject="notify", roles=["service"], audience="intake")
    trusted = TrustedKeys.parse(json.dumps(jwks([rotated])))
    assert TokenVerifier(audience="intake", trusted=trusted).verify(token).service == "notify"
    with pytest.raises(ValueError, match="signs only the identity of notify"):
        issue_token(key=rotated, subject="routing", roles=["service"], audience="intake")


def test_an_empty_key_set_accepts_no_token(identity: DevIdentity) -> None:
    verifier = TokenVerifier(audience="routing", trusted=TrustedKeys.parse('{"keys": []}'))
    assert not verifier.configured
    token = identity.token(subject="a", roles=["agent"], audience="routing")
    with pytest.raises(Unauthorized, match="does not trust"):
        verifier.verify(token)


def test_a_verified_token_is_remembered_until_it_expires(
    identity: DevIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = identity.verifier("intake")
    token = identity.service_token(caller="notify", audience="intake", ttl_s=60)
    assert verifier.verify(token).service == "notify"
    decoded: list[str] = []
    real = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: decoded.append("x") or real(*a, **k))
    assert verifier.verify(token).service == "notify"  # remembered: no second check
    assert decoded == []
    # A different text (one character changed in the signature) is checked, and refused.
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(Unauthorized):
        verifier.verify(tampered)
    assert decoded == ["x"]
    # Past its expiry (and the leeway) it is forgotten and checked again (PyJWT reads its
    # own clock, not the patched one, so here it passes that check).
    later = time.time() + 60 + 31
    monkeypatch.setattr(time, "time", lambda: later)
    verifier.verify(token)
    assert decoded == ["x", "x"]


def test_a_derived_sub_key_is_stable_per_label_and_reveals_nothing_of_the_key() -> None:
    from complaint_runtime.signing_keys import SigningKey

    key = SigningKey.generate("service:notify")
    again = SigningKey.from_jwk(key.private_jwk())
    assert again.derive(b"notify reply address key") == key.derive(b"notify reply address key")
    assert len(key.derive(b"a")) == 32
    assert key.derive(b"a") != key.derive(b"b")
    assert key.derive(b"a") != SigningKey.generate("service:notify").derive(b"a")
    assert key.private_key.private_bytes_raw() not in key.derive(b"a")
