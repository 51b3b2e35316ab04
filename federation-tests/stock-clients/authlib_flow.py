#!/usr/bin/env python3
"""Runs rosefed's OpenID Connect flow with an unmodified, well-known client
library: Authlib's requests integration (OAuth2Session) for the OAuth parts
and Authlib's OIDC claim classes, over joserfc (Authlib's own JOSE library),
for the id_token. Nothing here knows rosefed beyond what discovery says and
what its sign-in form looks like to a browser.

Steps: discovery -> authorization code + PKCE (S256) with state and nonce,
signing in through the HTML form -> token -> id_token checked against the
JWKS (signature, iss, aud, exp, nonce, at_hash) -> userinfo -> refresh
(rotation) -> replay of the old refresh token is refused.

Arguments, from the command line or else the environment:

    authlib_flow.py BASE_URL CLIENT_ID CLIENT_SECRET USERNAME PASSWORD REDIRECT_URI

    ROSEFED_BASE_URL, ROSEFED_CLIENT_ID, ROSEFED_CLIENT_SECRET,
    ROSEFED_USERNAME, ROSEFED_PASSWORD, ROSEFED_REDIRECT_URI

Prints one line per step and exits 0 when every step passed; on the first
failure prints what went wrong (with the HTTP exchange, where there is one)
and exits 1.
"""

from __future__ import annotations

import html
import os
import re
import secrets
import sys
import time
import traceback
import warnings
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

# Requests to the hub never hang the test.
TIMEOUT = 30
SCOPE = "openid profile email"
ARG_NAMES = [
    "BASE_URL",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "USERNAME",
    "PASSWORD",
    "REDIRECT_URI",
]


class FlowError(Exception):
    """A step failed; the message says which and why."""


def step(message: str) -> None:
    print(f"[authlib] ok: {message}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise FlowError(message)


def describe(response: requests.Response) -> str:
    """The request and the response, for failure messages."""
    body = response.text
    if len(body) > 2000:
        body = body[:2000] + "...(cut)"
    return (
        f"{response.request.method} {response.request.url} -> {response.status_code}\n"
        f"response headers: {dict(response.headers)}\n"
        f"response body: {body}"
    )


def expect_status(response: requests.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise FlowError(f"{what}: expected HTTP {status}\n{describe(response)}")


def load_args() -> dict[str, str]:
    argv = sys.argv[1:]
    if argv and len(argv) != len(ARG_NAMES):
        raise FlowError(
            f"expected {len(ARG_NAMES)} arguments ({' '.join(ARG_NAMES)}), got {len(argv)}"
        )
    args = {}
    for i, name in enumerate(ARG_NAMES):
        value = argv[i] if argv else os.environ.get(f"ROSEFED_{name}", "")
        if not value:
            raise FlowError(f"missing {name} (argument {i + 1} or ROSEFED_{name})")
        args[name] = value
    args["BASE_URL"] = args["BASE_URL"].rstrip("/")
    return args


def discover(base: str) -> dict:
    response = requests.get(
        f"{base}/.well-known/openid-configuration", timeout=TIMEOUT
    )
    expect_status(response, 200, "discovery")
    metadata = response.json()
    for key in (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ):
        check(bool(metadata.get(key)), f"discovery has no {key}: {metadata}")
    check(
        metadata["issuer"] == base,
        f"issuer {metadata['issuer']!r} is not the public URL {base!r}",
    )
    methods = metadata.get("code_challenge_methods_supported", [])
    check("S256" in methods, f"discovery does not offer PKCE S256: {methods}")
    return metadata


def sign_in_and_authorize(
    authorization_url: str, username: str, password: str, redirect_uri: str
) -> str:
    """Plays the browser: follows the authorization request to the sign-in
    form, submits it, and returns the redirect back to the client (which is
    read, not followed: nothing listens at the redirect URI)."""
    browser = requests.Session()

    response = browser.get(authorization_url, allow_redirects=False, timeout=TIMEOUT)
    check(
        response.status_code in (302, 303),
        f"authorize without a session should redirect to sign in\n{describe(response)}",
    )
    login_url = urljoin(authorization_url, response.headers["Location"])
    check(
        urlparse(login_url).path == "/login",
        f"authorize redirected to {login_url}, not to /login",
    )

    response = browser.get(login_url, allow_redirects=False, timeout=TIMEOUT)
    expect_status(response, 200, "sign-in form")
    fields = {}
    for name in ("csrf", "next"):
        match = re.search(
            r'<input[^>]*\bname="' + name + r'"[^>]*\bvalue="([^"]*)"', response.text
        ) or re.search(
            r'<input[^>]*\bvalue="([^"]*)"[^>]*\bname="' + name + r'"', response.text
        )
        check(match is not None, f"sign-in form has no hidden {name!r} input\n{describe(response)}")
        fields[name] = html.unescape(match.group(1))
    step("sign-in form served (csrf and next fields found)")

    action = login_url.split("?", 1)[0]
    form_action = re.search(r'<form[^>]*\baction="([^"]*)"', response.text)
    if form_action:
        action = urljoin(login_url, html.unescape(form_action.group(1)))
    response = browser.post(
        action,
        data={**fields, "username": username, "password": password},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    check(
        response.status_code in (302, 303),
        f"sign-in should redirect back to the authorization request\n{describe(response)}",
    )
    check(
        "rosefed_session" in browser.cookies,
        f"sign-in set no session cookie (cookies: {list(browser.cookies.keys())})",
    )
    next_url = urljoin(action, response.headers["Location"])
    step(f"signed in as {username}")

    # Back at the authorization endpoint, now signed in: a first-party client
    # gets no consent screen, so this redirects to the client at once.
    response = browser.get(next_url, allow_redirects=False, timeout=TIMEOUT)
    check(
        response.status_code in (302, 303),
        f"authorize after sign-in should redirect to the client\n{describe(response)}",
    )
    location = response.headers["Location"]
    check(
        location.startswith(redirect_uri + "?"),
        f"authorize redirected to {location!r}, not to the registered {redirect_uri!r}",
    )
    return location


def validate_id_token(
    metadata: dict, token: dict, client_id: str, nonce: str
) -> CodeIDToken:
    """What Authlib's own OpenID client (OpenIDMixin.parse_id_token) does
    with an id_token, done explicitly so every check is visible: verify the
    signature with the JWKS key it names, through joserfc (Authlib 1.9
    deprecates authlib.jose in its favour and uses it itself), then validate
    the claims with Authlib's CodeIDToken."""
    response = requests.get(metadata["jwks_uri"], timeout=TIMEOUT)
    expect_status(response, 200, "JWKS")
    jwks = response.json()
    check(bool(jwks.get("keys")), f"JWKS has no keys: {jwks}")
    key_set = KeySet.import_key_set(jwks)
    algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    check("none" not in algorithms, f"discovery allows unsigned id_tokens: {algorithms}")
    try:
        decoded = jwt.decode(token["id_token"], key_set, algorithms=algorithms)
    except JoseError as e:
        raise FlowError(f"id_token signature does not verify against the JWKS: {e!r}")
    check(decoded.header.get("alg") == "RS256", f"id_token alg: {decoded.header}")
    kids = [k.get("kid") for k in jwks["keys"]]
    check(
        decoded.header.get("kid") in kids,
        f"id_token kid {decoded.header.get('kid')!r} is not in the JWKS {kids}",
    )
    step(f"id_token signature verified with JWKS key {decoded.header['kid']!r}")

    options = {
        "iss": {"essential": True, "value": metadata["issuer"]},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
        "nonce": {"essential": True, "value": nonce},
        "at_hash": {"essential": True},
    }
    params = {
        "nonce": nonce,
        "client_id": client_id,
        "access_token": token["access_token"],
    }
    claims = CodeIDToken(decoded.claims, decoded.header, options, params)
    try:
        claims.validate(now=int(time.time()), leeway=60)
    except JoseError as e:
        raise FlowError(f"id_token claims rejected: {e!r}; claims: {decoded.claims}")
    for name in ("exp", "iat", "auth_time", "at_hash"):
        check(name in claims, f"id_token has no {name}: {decoded.claims}")

    # The same classes must refuse what is wrong, or the checks above prove
    # nothing: another nonce, and an access token the id_token is not for.
    for wrong, label in (
        ({**params, "nonce": nonce + "x"}, "a different nonce"),
        ({**params, "access_token": token["access_token"] + "x"}, "another access token"),
    ):
        wrong_options = {**options, "nonce": {"essential": True, "value": wrong["nonce"]}}
        try:
            CodeIDToken(decoded.claims, decoded.header, wrong_options, wrong).validate(
                now=int(time.time()), leeway=60
            )
        except JoseError:
            continue
        raise FlowError(f"CodeIDToken accepted the id_token with {label}")
    step(
        "id_token claims valid (iss, aud, exp, iat, nonce, at_hash; "
        f"sub={claims['sub']!r})"
    )
    return claims


def run() -> None:
    args = load_args()
    base = args["BASE_URL"]
    client_id = args["CLIENT_ID"]
    redirect_uri = args["REDIRECT_URI"]
    username = args["USERNAME"]

    metadata = discover(base)
    step(f"discovery: issuer {metadata['issuer']}")

    client = OAuth2Session(
        client_id,
        args["CLIENT_SECRET"],
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    code_verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    authorization_url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
    )
    query = parse_qs(urlparse(authorization_url).query)
    check(
        query.get("code_challenge_method") == ["S256"] and "code_challenge" in query,
        f"Authlib built no PKCE challenge: {authorization_url}",
    )
    step("authorization request built (code, PKCE S256, state, nonce)")

    location = sign_in_and_authorize(
        authorization_url, username, args["PASSWORD"], redirect_uri
    )
    returned = parse_qs(urlparse(location).query)
    check("error" not in returned, f"authorization failed: {location}")
    check(
        returned.get("state") == [state],
        f"state did not round-trip: sent {state!r}, got {returned.get('state')}",
    )
    check(
        returned.get("iss") == [metadata["issuer"]],
        f"iss in the redirect is {returned.get('iss')}, not the issuer {metadata['issuer']!r}",
    )
    check(bool(returned.get("code")), f"no code in the redirect: {location}")
    step("authorization code received (state round-tripped, iss is the issuer)")

    try:
        token = client.fetch_token(
            metadata["token_endpoint"],
            authorization_response=location,
            state=state,
            code_verifier=code_verifier,
        )
    except Exception as e:
        raise FlowError(f"code exchange failed: {e!r}")
    check(token.get("token_type", "").lower() == "bearer", f"token_type: {token}")
    for name in ("access_token", "refresh_token", "id_token", "expires_in"):
        check(bool(token.get(name)), f"token response has no {name}: {sorted(token)}")
    check(
        set(SCOPE.split()) <= set(token.get("scope", SCOPE).split()),
        f"granted scope {token.get('scope')!r} lacks some of {SCOPE!r}",
    )
    step("code exchanged for tokens with the PKCE verifier (client_secret_basic)")

    claims = validate_id_token(metadata, token, client_id, nonce)
    check(
        claims.get("preferred_username") in (None, username),
        f"id_token preferred_username {claims.get('preferred_username')!r} is not {username!r}",
    )

    response = client.get(metadata["userinfo_endpoint"], timeout=TIMEOUT)
    expect_status(response, 200, "userinfo")
    userinfo = response.json()
    check(
        userinfo.get("sub") == claims["sub"],
        f"userinfo sub {userinfo.get('sub')!r} differs from the id_token's {claims['sub']!r}",
    )
    check(
        userinfo.get("preferred_username") == username,
        f"userinfo preferred_username {userinfo.get('preferred_username')!r} is not {username!r}",
    )
    check(bool(userinfo.get("email")), f"userinfo has no email with the email scope: {userinfo}")
    step(f"userinfo: sub matches the id_token, preferred_username={username!r}")

    old_refresh = token["refresh_token"]
    old_access = token["access_token"]
    try:
        refreshed = client.refresh_token(metadata["token_endpoint"])
    except Exception as e:
        raise FlowError(f"refresh failed: {e!r}")
    check(bool(refreshed.get("access_token")), f"refresh gave no access token: {sorted(refreshed)}")
    check(refreshed["access_token"] != old_access, "refresh returned the same access token")
    check(
        bool(refreshed.get("refresh_token")) and refreshed["refresh_token"] != old_refresh,
        "refresh did not rotate the refresh token",
    )
    response = client.get(metadata["userinfo_endpoint"], timeout=TIMEOUT)
    expect_status(response, 200, "userinfo with the refreshed access token")
    check(
        response.json().get("sub") == claims["sub"],
        f"userinfo after refresh is for {response.json().get('sub')!r}",
    )
    step("refresh rotated the refresh token; the new access token works")

    # Replaying the rotated-out refresh token is what a thief would do: refused.
    response = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": old_refresh},
        auth=(client_id, args["CLIENT_SECRET"]),
        timeout=TIMEOUT,
    )
    expect_status(response, 400, "replaying the old refresh token")
    error = response.json().get("error")
    check(
        error == "invalid_grant",
        f"replay error is {error!r}, not invalid_grant\n{describe(response)}",
    )
    step("replaying the old refresh token is refused (400 invalid_grant)")

    # The replay revoked the whole family: the rotated-in token is dead too.
    response = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
        auth=(client_id, args["CLIENT_SECRET"]),
        timeout=TIMEOUT,
    )
    expect_status(response, 400, "the new refresh token after a replay of the old one")
    error = response.json().get("error")
    check(error == "invalid_grant", f"error is {error!r}, not invalid_grant\n{describe(response)}")
    step("the replay revoked the family: the newest refresh token is refused too")

    print("[authlib] PASS: discovery, code + PKCE, id_token, userinfo, refresh", flush=True)


def main() -> int:
    # Deprecation notices from the libraries are not failures of the flow.
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        run()
    except FlowError as e:
        print(f"[authlib] FAIL: {e}", file=sys.stderr, flush=True)
        return 1
    except Exception:
        print("[authlib] FAIL: unexpected error", file=sys.stderr, flush=True)
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
