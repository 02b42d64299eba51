#!/usr/bin/env python3
"""Checks Responses from `examples/interop_response.rs` with real SP libraries.

    python3 -m venv /tmp/saml-venv && /tmp/saml-venv/bin/pip install python3-saml pysaml2
    /tmp/saml-venv/bin/python crates/eca-saml/tests/interop/check_sp_libraries.py

python3-saml (OneLogin) runs in strict mode with wantAssertionsSigned; pysaml2 verifies
with xmlsec1. Both must accept the genuine Responses and refuse tampered copies.
Test-only keys from tests/data/ (see its README).
"""
import base64
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(CRATE, "tests", "data")
ACS = "https://sp.example/acs"
SP_ENTITY = "https://sp.example/metadata"
IDP_ENTITY = "https://acme.example"


def read(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


def cert_body(pem):
    return "".join(l for l in pem.splitlines() if "CERTIFICATE" not in l)


def make_response(sign="both", encrypt="none", request_id="_req123"):
    out = subprocess.run(
        ["cargo", "run", "-q", "-p", "eca-saml", "--example", "interop_response", "--",
         sign, encrypt, request_id],
        check=True, capture_output=True, text=True, cwd=CRATE)
    return out.stdout.strip()


def tamper(b64, old, new):
    xml = base64.b64decode(b64).decode()
    assert old in xml, old
    return base64.b64encode(xml.replace(old, new, 1).encode()).decode()


def onelogin(b64, request_id="_req123", encrypted=False):
    from onelogin.saml2.response import OneLogin_Saml2_Response
    from onelogin.saml2.settings import OneLogin_Saml2_Settings
    settings = OneLogin_Saml2_Settings({
        "strict": True,
        "sp": {
            "entityId": SP_ENTITY,
            "assertionConsumerService": {"url": ACS},
            "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "x509cert": cert_body(read("sp.crt")),
            "privateKey": read("sp.key"),
        },
        "idp": {
            "entityId": IDP_ENTITY,
            "singleSignOnService": {"url": "https://acme.example/idp/endpoint/HttpRedirect"},
            "x509cert": cert_body(read("idp.crt")),
        },
        "security": {"wantAssertionsSigned": True, "wantAssertionsEncrypted": encrypted},
    })
    request_data = {"https": "on", "http_host": "sp.example", "script_name": "/acs",
                    "server_port": "443", "get_data": {}, "post_data": {}}
    r = OneLogin_Saml2_Response(settings, b64)
    ok = r.is_valid(request_data, request_id, raise_exceptions=False)
    return ok, (r.get_nameid() if ok else r.get_error())


def pysaml2(b64, request_id="_req123"):
    from saml2 import BINDING_HTTP_POST
    from saml2.client import Saml2Client
    from saml2.config import SPConfig
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as md:
        md.write(f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{IDP_ENTITY}">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{cert_body(read("idp.crt"))}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://acme.example/idp/endpoint/HttpRedirect"/>
</md:IDPSSODescriptor></md:EntityDescriptor>""")
    conf = SPConfig()
    conf.load({
        "entityid": SP_ENTITY,
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(ACS, BINDING_HTTP_POST)]},
            "want_assertions_signed": True,
            "want_response_signed": False,
            "allow_unsolicited": False,
        }},
        "metadata": {"local": [md.name]},
        "key_file": os.path.join(DATA, "sp.key"),
        "cert_file": os.path.join(DATA, "sp.crt"),
        "encryption_keypairs": [{"key_file": os.path.join(DATA, "sp.key"),
                                 "cert_file": os.path.join(DATA, "sp.crt")}],
        "xmlsec_binary": "/usr/bin/xmlsec1",
    })
    client = Saml2Client(conf)
    try:
        r = client.parse_authn_request_response(b64, BINDING_HTTP_POST,
                                                outstanding={request_id: "/"})
        return r is not None, (str(r.name_id.text) if r is not None else None)
    except Exception as e:  # pysaml2 signals refusal by raising
        return False, f"{type(e).__name__}: {e}"


def main():
    failures = 0

    def expect(name, result, accepted):
        nonlocal failures
        ok, detail = result
        mark = "ok  " if ok == accepted else "FAIL"
        if ok != accepted:
            failures += 1
        print(f"{mark} {name}: {'accepted' if ok else 'refused'} ({str(detail)[:100]})")

    for lib_name, lib in [("python3-saml", onelogin), ("pysaml2", pysaml2)]:
        for sign in ["both", "assertion"]:
            genuine = make_response(sign)
            expect(f"{lib_name} sign={sign} genuine", lib(genuine), True)
        genuine = make_response("both")
        expect(f"{lib_name} edited NameID",
               lib(tamper(genuine, ">ada@acme.example</saml:NameID>", ">eve@acme.example</saml:NameID>")), False)
        expect(f"{lib_name} edited attribute",
               lib(tamper(genuine, "<saml:AttributeValue>a<", "<saml:AttributeValue>admin<")), False)
        expect(f"{lib_name} wrong audience",
               lib(tamper(genuine, f"<saml:Audience>{SP_ENTITY}<", "<saml:Audience>https://evil.example<")), False)
        expect(f"{lib_name} mismatched InResponseTo", lib(genuine, request_id="_other"), False)
        unsigned = make_response("response")
        expect(f"{lib_name} assertion not signed (wantAssertionsSigned)", lib(unsigned), False)
        for enc in ["gcm", "cbc"]:
            encrypted = make_response("both", enc)
            if lib is onelogin:
                expect(f"{lib_name} encrypted {enc}", onelogin(encrypted, encrypted=True), True)
            else:
                expect(f"{lib_name} encrypted {enc}", lib(encrypted), True)
    print("FAILED" if failures else "all checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
