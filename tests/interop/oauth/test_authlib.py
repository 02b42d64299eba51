"""Authlib's OAuth 2.0 client (requests integration) against the real server: the web-server
flow with PKCE (spec/oauth-and-connect.md §1.9A), refresh with and without rotation (§1.9D),
client credentials (§1.9E) and the error answers a client sees."""

import urllib.parse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

from conftest import ADMIN, API_USER, CALLBACK, CC, ROTATING, WEB, log_in_and_decide


def web_session(app, auth_method="client_secret_basic"):
    return OAuth2Session(
        app.client_id,
        app.client_secret,
        scope="api refresh_token openid profile email",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
    )


def authorize_and_fetch(server, app, auth_method="client_secret_basic"):
    client = web_session(app, auth_method)
    verifier = generate_token(64)
    nonce = generate_token(20)
    url, state = client.create_authorization_url(server.authorize_url, code_verifier=verifier, nonce=nonce)
    location = log_in_and_decide(requests.Session(), url)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert query["state"] == state, query
    # RFC 9207: the authorization response names the issuer, the discovery `issuer`.
    assert query["iss"] == server.url, query
    token = client.fetch_token(server.token_url, authorization_response=location, code_verifier=verifier)
    token["nonce"] = nonce
    return client, token


def test_web_server_flow_with_pkce(server):
    client, token = authorize_and_fetch(server, WEB)
    assert token["token_type"] == "Bearer", token
    assert token["access_token"].startswith("00D") and "!" in token["access_token"], token
    assert token["refresh_token"], token
    assert token["id_token"].count(".") == 2, token
    assert token["instance_url"] == server.url, token
    assert set(token["scope"].split()) == {"api", "refresh_token", "openid", "profile", "email"}, token

    # The ID token, checked by authlib's OIDC claims class against the JWKS of discovery:
    # signature, iss, aud, exp, iat, nonce and at_hash (OIDC Core §3.1.3.7).
    discovery = requests.get(f"{server.url}/.well-known/openid-configuration").json()
    keys = JsonWebKey.import_key_set(requests.get(discovery["jwks_uri"]).json())
    claims = jwt.decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": discovery["issuer"]}},
        claims_params={"nonce": token["nonce"], "client_id": WEB.client_id, "access_token": token["access_token"]},
    )
    claims.validate()
    assert claims["preferred_username"] == ADMIN, claims

    info = client.get(server.userinfo_url)
    assert info.status_code == 200, info.text
    assert info.json()["preferred_username"] == ADMIN, info.json()
    assert info.json()["sub"] == claims["sub"], (info.json(), claims)
    identity = client.get(token["id"])
    assert identity.status_code == 200, identity.text
    assert identity.json()["username"] == ADMIN, identity.json()


def test_revocation_and_introspection(server):
    client, token = authorize_and_fetch(server, WEB)
    active = client.introspect_token(f"{server.url}/services/oauth2/introspect", token=token["access_token"])
    assert active.status_code == 200 and active.json()["active"] is True, active.text
    revoked = client.revoke_token(f"{server.url}/services/oauth2/revoke", token=token["refresh_token"],
                                  token_type_hint="refresh_token")
    assert revoked.status_code == 200, revoked.text
    # Revoking the refresh token revokes the access tokens issued from it.
    after = client.introspect_token(f"{server.url}/services/oauth2/introspect", token=token["access_token"])
    assert after.json() == {"active": False}, after.text
    with pytest.raises(OAuthError) as refused:
        client.refresh_token(server.token_url, refresh_token=token["refresh_token"])
    assert refused.value.error == "invalid_grant", refused.value


def test_code_cannot_be_redeemed_twice(server):
    client = web_session(WEB)
    verifier = generate_token(64)
    url, _ = client.create_authorization_url(server.authorize_url, code_verifier=verifier)
    location = log_in_and_decide(requests.Session(), url)
    client.fetch_token(server.token_url, authorization_response=location, code_verifier=verifier)
    with pytest.raises(OAuthError) as replay:
        web_session(WEB).fetch_token(server.token_url, authorization_response=location, code_verifier=verifier)
    assert replay.value.error == "invalid_grant", replay.value


def test_wrong_code_verifier_is_refused(server):
    client = web_session(WEB)
    url, _ = client.create_authorization_url(server.authorize_url, code_verifier=generate_token(64))
    location = log_in_and_decide(requests.Session(), url)
    with pytest.raises(OAuthError) as wrong:
        client.fetch_token(server.token_url, authorization_response=location, code_verifier=generate_token(64))
    assert (wrong.value.error, wrong.value.description) == ("invalid_grant", "invalid code verifier")


def test_deny_gives_access_denied(server):
    client = web_session(WEB)
    url, state = client.create_authorization_url(
        server.authorize_url, code_verifier=generate_token(64), prompt="consent"
    )
    location = log_in_and_decide(requests.Session(), url, button="oadeny")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert query["error"] == "access_denied" and query["state"] == state, query
    assert "code" not in query, query


def test_refresh_without_rotation(server):
    client, token = authorize_and_fetch(server, WEB)
    refreshed = client.refresh_token(server.token_url, refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"], refreshed
    # Without rotation the refresh token stays the same and can be used again.
    assert refreshed.get("refresh_token", token["refresh_token"]) == token["refresh_token"], refreshed
    again = client.refresh_token(server.token_url, refresh_token=token["refresh_token"])
    assert again["access_token"] not in (token["access_token"], refreshed["access_token"])
    assert client.get(server.userinfo_url).status_code == 200


def test_refresh_with_rotation_and_reuse_detection(server):
    client, token = authorize_and_fetch(server, ROTATING, auth_method="client_secret_post")
    first = token["refresh_token"]
    rotated = client.refresh_token(server.token_url, refresh_token=first)
    second = rotated["refresh_token"]
    assert second != first, rotated
    assert client.get(server.userinfo_url).status_code == 200

    # Presenting the spent token again is refused and revokes the whole family (RFC 9700 §4.14.2).
    with pytest.raises(OAuthError) as reuse:
        client.refresh_token(server.token_url, refresh_token=first)
    assert reuse.value.error == "invalid_grant", reuse.value
    with pytest.raises(OAuthError) as family:
        client.refresh_token(server.token_url, refresh_token=second)
    assert family.value.error == "invalid_grant", family.value
    after = requests.get(server.userinfo_url, headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert after.status_code in (401, 403), after.text


def test_client_credentials(server):
    client = OAuth2Session(CC.client_id, CC.client_secret, scope="api")
    token = client.fetch_token(server.token_url, grant_type="client_credentials")
    assert token["token_type"] == "Bearer" and "refresh_token" not in token, token
    assert token["scope"] == "api", token
    identity = client.get(token["id"])
    assert identity.status_code == 200, identity.text
    assert identity.json()["username"] == API_USER, identity.json()

    # client_secret_post works as well as authlib's default Basic authentication.
    post = OAuth2Session(CC.client_id, CC.client_secret, token_endpoint_auth_method="client_secret_post")
    assert post.fetch_token(server.token_url, grant_type="client_credentials")["access_token"]


def test_client_credentials_errors(server):
    wrong = OAuth2Session(CC.client_id, "not-the-secret")
    with pytest.raises(OAuthError) as bad_secret:
        wrong.fetch_token(server.token_url, grant_type="client_credentials")
    assert (bad_secret.value.error, bad_secret.value.description) == ("invalid_client", "invalid client credentials")

    # An app without the flow: Salesforce's `unauthorized_client`.
    web = OAuth2Session(WEB.client_id, WEB.client_secret)
    with pytest.raises(OAuthError) as not_enabled:
        web.fetch_token(server.token_url, grant_type="client_credentials")
    assert not_enabled.value.error == "unauthorized_client", not_enabled.value
