"""JWT bearer assertions (RFC 7523, spec/oauth-and-connect.md §1.9F) signed by PyJWT with the
key whose certificate `eca app new --flows jwt-bearer` put into the app's global OAuth
settings."""

import time

import jwt
import requests

from conftest import ADMIN, JWT

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def assertion(server, **claims):
    body = {"iss": JWT.client_id, "sub": ADMIN, "aud": server.url, "exp": int(time.time()) + 180}
    body.update(claims)
    return jwt.encode(body, server.jwt_key(), algorithm="RS256")


def exchange(server, signed):
    return requests.post(server.token_url, data={"grant_type": GRANT, "assertion": signed})


def test_assertion_gives_a_working_token(server):
    answer = exchange(server, assertion(server))
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert token["token_type"] == "Bearer" and token["instance_url"] == server.url, token
    assert "refresh_token" not in token, token
    info = requests.get(server.userinfo_url, headers={"Authorization": f"Bearer {token['access_token']}"})
    assert info.status_code == 200, info.text
    assert info.json()["preferred_username"] == ADMIN, info.json()


def test_login_salesforce_audience_and_trailing_slash(server):
    for aud in ("https://login.salesforce.com", server.url + "/"):
        answer = exchange(server, assertion(server, aud=aud))
        assert answer.status_code == 200, (aud, answer.text)


def test_wrong_audience_is_refused(server):
    answer = exchange(server, assertion(server, aud="https://example.com"))
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"error": "invalid_grant", "error_description": "Audience validation failed"}


def test_expired_assertion_is_refused(server):
    # Past the server's five minutes of allowed clock skew.
    answer = exchange(server, assertion(server, exp=int(time.time()) - 3600))
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


def test_assertion_signed_by_another_key_is_refused(server):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    body = {"iss": JWT.client_id, "sub": ADMIN, "aud": server.url, "exp": int(time.time()) + 180}
    answer = exchange(server, jwt.encode(body, other, algorithm="RS256"))
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


def test_unknown_user_is_refused(server):
    answer = exchange(server, assertion(server, sub="nobody@demo.example"))
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}
