"""The device flow (RFC 8628 and Salesforce's form, spec/oauth-and-connect.md §1.9) with
authlib's OAuth2Session polling the token endpoint and the activation page walked with
`requests` like a user's browser."""

import time

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from conftest import ADMIN, DEVICE, activate_device

RFC_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def test_rfc8628_device_flow(server):
    discovery = requests.get(f"{server.url}/.well-known/openid-configuration").json()
    assert RFC_GRANT in discovery["grant_types_supported"], discovery
    started = requests.post(
        discovery["device_authorization_endpoint"], data={"client_id": DEVICE.client_id, "scope": "api refresh_token"}
    )
    assert started.status_code == 200, started.text
    device = started.json()
    for field in ("device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in", "interval"):
        assert field in device, device

    client = OAuth2Session(DEVICE.client_id, DEVICE.client_secret, token_endpoint_auth_method="client_secret_post")
    with pytest.raises(OAuthError) as pending:
        client.fetch_token(server.token_url, grant_type=RFC_GRANT, device_code=device["device_code"])
    assert pending.value.error == "authorization_pending", pending.value
    with pytest.raises(OAuthError) as fast:
        client.fetch_token(server.token_url, grant_type=RFC_GRANT, device_code=device["device_code"])
    assert fast.value.error == "slow_down", fast.value

    result = activate_device(requests.Session(), device["verification_uri_complete"])
    assert result == "You can go back to your device now.", result

    # RFC 8628 §3.5: slow_down adds 5 seconds to the interval.
    time.sleep(device["interval"] + 5)
    token = client.fetch_token(server.token_url, grant_type=RFC_GRANT, device_code=device["device_code"])
    assert token["access_token"] and token["refresh_token"], token
    assert client.get(token["id"]).json()["username"] == ADMIN

    # The device code is spent.
    with pytest.raises(OAuthError) as spent:
        client.fetch_token(server.token_url, grant_type=RFC_GRANT, device_code=device["device_code"])
    assert spent.value.error == "invalid_grant", spent.value
    # The refresh token works like any other.
    assert client.refresh_token(server.token_url, refresh_token=token["refresh_token"])["access_token"]


def test_salesforce_device_form_typed_code_and_deny(server):
    started = requests.post(
        server.token_url, data={"response_type": "device_code", "client_id": DEVICE.client_id, "scope": "api"}
    )
    assert started.status_code == 200, started.text
    device = started.json()
    # The code typed in by hand, in lower case and without its dash, on the plain verification URI.
    typed = device["user_code"].replace("-", "").lower()
    result = activate_device(requests.Session(), device["verification_uri"], button="oadeny", user_code=typed)
    assert result == "The device will not be connected. You can close this page.", result

    client = OAuth2Session(DEVICE.client_id)
    with pytest.raises(OAuthError) as denied:
        client.fetch_token(server.token_url, grant_type="device", code=device["device_code"])
    assert denied.value.error == "access_denied", denied.value
