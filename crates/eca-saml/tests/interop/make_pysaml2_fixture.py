#!/usr/bin/env python3
"""Regenerates tests/data/pysaml2_authn_post_signed.xml: a signed AuthnRequest as pysaml2's
`Saml2Client.prepare_for_authenticate` makes it for the HTTP-POST binding (test-only SP key):

    /tmp/saml-venv/bin/python crates/eca-saml/tests/interop/make_pysaml2_fixture.py
"""
import os
import re
import tempfile

from saml2 import BINDING_HTTP_POST
from saml2.client import Saml2Client
from saml2.config import SPConfig

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
with open(os.path.join(DATA, "idp.crt")) as f:
    idp_cert = "".join(l for l in f.read().splitlines() if "CERTIFICATE" not in l)
with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as md:
    md.write(f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://acme.example">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">
<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{idp_cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://acme.example/idp/endpoint/HttpPost"/>
</md:IDPSSODescriptor></md:EntityDescriptor>""")
conf = SPConfig()
conf.load({
    "entityid": "https://sp.example/metadata",
    "service": {"sp": {
        "endpoints": {"assertion_consumer_service": [("https://sp.example/acs", BINDING_HTTP_POST)]},
        "authn_requests_signed": True,
    }},
    "metadata": {"local": [md.name]},
    "key_file": os.path.join(DATA, "sp.key"),
    "cert_file": os.path.join(DATA, "sp.crt"),
    "xmlsec_binary": "/usr/bin/xmlsec1",
})
client = Saml2Client(conf)
req_id, req = client.create_authn_request("https://acme.example/idp/endpoint/HttpPost",
                                          binding=BINDING_HTTP_POST, sign=True,
                                          sign_alg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                                          digest_alg="http://www.w3.org/2001/04/xmlenc#sha256")
with open(os.path.join(DATA, "pysaml2_authn_post_signed.xml"), "w") as f:
    f.write(str(req))
print(req_id)
