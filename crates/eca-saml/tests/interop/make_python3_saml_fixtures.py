#!/usr/bin/env python3
"""Regenerates the python3-saml request fixtures under tests/data/ (test-only SP key):

    /tmp/saml-venv/bin/python crates/eca-saml/tests/interop/make_python3_saml_fixtures.py

Writes the query strings python3-saml's `OneLogin_Saml2_Auth.login()` and `.logout()`
redirect to, signed with RSA-SHA256 (`authnRequestsSigned`, `logoutRequestSigned`).
"""
import os
from urllib.parse import urlsplit

from onelogin.saml2.auth import OneLogin_Saml2_Auth

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def read(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


def body(pem):
    return "".join(l for l in pem.splitlines() if "CERTIFICATE" not in l)


settings = {
    "strict": True,
    "sp": {
        "entityId": "https://sp.example/metadata",
        "assertionConsumerService": {"url": "https://sp.example/acs"},
        "singleLogoutService": {"url": "https://sp.example/slo"},
        "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        "x509cert": body(read("sp.crt")),
        "privateKey": read("sp.key"),
    },
    "idp": {
        "entityId": "https://acme.example",
        "singleSignOnService": {"url": "https://acme.example/idp/endpoint/HttpRedirect"},
        "singleLogoutService": {"url": "https://acme.example/services/auth/idp/saml2/logout"},
        "x509cert": body(read("idp.crt")),
    },
    "security": {
        "authnRequestsSigned": True,
        "logoutRequestSigned": True,
        "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    },
}
request = {"https": "on", "http_host": "sp.example", "script_name": "/", "get_data": {}, "post_data": {}}
auth = OneLogin_Saml2_Auth(request, settings)
login = auth.login(return_to="https://sp.example/app?x=1&y=2")
logout = auth.logout(return_to="https://sp.example/bye", name_id="ada@acme.example",
                     session_index="_session1")
for name, url in [("python3_saml_authn_redirect.query", login),
                  ("python3_saml_logout_redirect.query", logout)]:
    with open(os.path.join(DATA, name), "w") as f:
        f.write(urlsplit(url).query + "\n")
    print(name)
