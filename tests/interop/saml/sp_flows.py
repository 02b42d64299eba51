#!/usr/bin/env python3
"""Real SAML service-provider libraries against a running `eca serve` (issue 7).

    scripts/test            installs the pinned libraries (requirements.txt) and runs this

Starts `target/debug/eca serve --listen 127.0.0.1:0` (or $ECA_BIN) in a temporary folder,
logs in with the SOAP partner API, deploys three apps with SAML policies through the REST
deployRequest, then plays the browser with `requests` (cookies, the login page and its CSRF
token, redirects, the auto-submitting POST form) and hands what the IdP sends to:

- python3-saml (OneLogin) in strict mode, wantAssertionsSigned, signing its AuthnRequests and
  LogoutRequests (the app has the SP certificate, so unsigned requests must be refused);
- pysaml2 with xmlsec1, sending unsigned AuthnRequests by the HTTP-POST binding;

both configured from our IdP metadata fetched over HTTP; then the same flows once more with a
headless Chromium (playwright-core, `browser/browse.js`) as the user, typing into the login
page and running the auto-submitting form. SP-initiated and IdP-initiated SSO,
RelayState, single logout (the IdP session must end), encrypted assertions, and tampered copies
(edited NameID, edited attribute, stripped signature, re-signed with another key, wrong
audience, expired, mismatched InResponseTo) that both libraries must refuse. Everything talks
only to 127.0.0.1. Exits non-zero on any failure.
"""
import base64
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zipfile
from html import unescape

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ECA = os.environ.get("ECA_BIN", os.path.join(ROOT, "target", "debug", "eca"))
DATA = os.path.join(ROOT, "crates", "eca-saml", "tests", "data")
PASSWORD = "Saml-Interop-Password-42"
USERNAME = "admin@demo.example"
# Nothing listens here: the "browser" hands the POSTed form to the SP library itself.
SP_BASE = "http://127.0.0.1:9"
NS = "http://soap.sforce.com/2006/04/metadata"

FAILURES = []


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + str(detail)[:300]}")
    if not ok:
        FAILURES.append(name)


def read(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


def cert_body(pem):
    return "".join(l.strip() for l in pem.splitlines() if "CERTIFICATE" not in l)


# --- the server --------------------------------------------------------------------------------

def start_server(tmp):
    env = {k: v for k, v in os.environ.items()
           if k not in ("ECA_LISTEN", "ECA_DATABASE_URL", "ECA_PUBLIC_URL", "ECA_MASTER_KEY",
                        "ECA_DATA_DIR")}
    env["ECA_ADMIN_PASSWORD"] = PASSWORD
    log = open(os.path.join(tmp, "server.log"), "w")
    child = subprocess.Popen(
        [ECA, "serve", "--listen", "127.0.0.1:0", "--data-dir", os.path.join(tmp, "data")],
        env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = child.stdout.readline()
        if not line:
            raise SystemExit(f"eca serve exited; see {tmp}/server.log")
        m = re.match(r"^listening on (\S+)", line)
        if m:
            return child, m.group(1)
    raise SystemExit("no `listening on` line within 60 s")


def soap_login(base):
    body = (
        '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Body><urn:login>'
        f"<urn:username>{USERNAME}</urn:username><urn:password>{PASSWORD}</urn:password>"
        "</urn:login></soapenv:Body></soapenv:Envelope>")
    r = requests.post(f"{base}/services/Soap/u/66.0", data=body,
                      headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "login"})
    r.raise_for_status()
    return re.search(r"<sessionId>([^<]+)</sessionId>", r.text).group(1)


def component(ty, body):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{ty} xmlns="{NS}">\n{body}\n</{ty}>\n')


def saml_app(name, entity, acs, extra):
    """The files of an app that is only a SAML service provider."""
    return [
        ("externalClientApps", f"{name}.eca", "ExternalClientApplication",
         component("ExternalClientApplication",
                   f"<contactEmail>dev@example.com</contactEmail>"
                   f"<distributionState>Local</distributionState><label>{name}</label>")),
        ("extlClntAppPolicies", f"{name}_plcy.ecaPlcy", "ExtlClntAppConfigurablePolicies",
         component("ExtlClntAppConfigurablePolicies",
                   f"<externalClientApplication>{name}</externalClientApplication>"
                   "<isEnabled>true</isEnabled><isOauthPluginEnabled>false</isOauthPluginEnabled>"
                   f"<isSamlPluginEnabled>true</isSamlPluginEnabled><label>{name}</label>")),
        ("extlClntAppSamlConfigurablePolicies", f"{name}_samlPlcy.ecaSamlPlcy",
         "ExtlClntAppSamlConfigurablePolicies",
         component("ExtlClntAppSamlConfigurablePolicies",
                   f"<acsUrl>{acs}</acsUrl>"
                   "<customAttributes><formula>$User.Email</formula><key>mail</key></customAttributes>"
                   f"<entityUrl>{entity}</entityUrl>"
                   f"<externalClientApplication>{name}</externalClientApplication>"
                   f"<label>{name}</label>{extra}")),
    ]


def deploy(base, session, apps):
    files = [f for app in apps for f in app]
    types = {}
    for _, file_name, ty, _ in files:
        types.setdefault(ty, []).append(file_name.split(".")[0])
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<Package xmlns="{NS}">' +
                "".join(f"<types>{''.join(f'<members>{m}</members>' for m in ms)}<name>{t}</name></types>"
                        for t, ms in types.items()) +
                "<version>66.0</version></Package>\n")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("package.xml", manifest)
        for folder, file_name, _, xml in files:
            z.writestr(f"{folder}/{file_name}", xml)
    auth = {"Authorization": f"Bearer {session}"}
    r = requests.post(
        f"{base}/services/data/v66.0/metadata/deployRequest", headers=auth,
        files={"entity_content": (None, json.dumps({"deployOptions": {"singlePackage": True}}),
                                  "application/json"),
               "file": ("deploy.zip", buf.getvalue(), "application/zip")})
    if r.status_code != 201:
        raise SystemExit(f"deploy refused: {r.status_code} {r.text}")
    deploy_id = r.json()["id"]
    for _ in range(120):
        r = requests.get(f"{base}/services/data/v66.0/metadata/deployRequest/{deploy_id}"
                         "?includeDetails=true", headers=auth)
        status = r.json()["deployResult"]["status"]
        if status not in ("Queued", "Pending", "InProgress", "Canceling"):
            if status != "Succeeded":
                raise SystemExit(f"deploy {status}: {r.text}")
            return
        time.sleep(0.5)
    raise SystemExit("deploy did not finish")


# --- the browser -------------------------------------------------------------------------------

def hidden_fields(html):
    return {unescape(n): unescape(v) for n, v in
            re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', html)}


def form_fields(html):
    m = re.search(r'<form[^>]*action="([^"]*)"', html)
    assert m, html[:500]
    return unescape(m.group(1)), hidden_fields(html)


def browse(browser, url, expect_form=True):
    """Follows redirects on 127.0.0.1, logging in when the login page shows; returns the final
    auto-submitting form's action and fields."""
    for _ in range(10):
        r = browser.get(url, allow_redirects=False)
        if r.status_code in (302, 303):
            url = urllib.parse.urljoin(url, r.headers["Location"])
            if not url.startswith("http://127.0.0.1"):
                return url, None
            continue
        if 'name="password"' in r.text:
            # The login page: its CSRF token and start URL, then the credentials.
            fields = hidden_fields(r.text)
            fields.update({"username": USERNAME, "password": PASSWORD})
            # The form has no action: it posts to the page's own address.
            r = browser.post(url, data=fields, allow_redirects=False)
            assert r.status_code in (302, 303), (r.status_code, r.text[:500])
            url = urllib.parse.urljoin(url, r.headers["Location"])
            continue
        assert r.status_code == 200, (r.status_code, r.text[:500])
        if expect_form:
            return form_fields(r.text)
        return r
    raise AssertionError("too many hops")


def tamper(b64, old, new):
    xml = base64.b64decode(b64).decode()
    if old not in xml:
        raise AssertionError(f"{old!r} not in the Response")
    return base64.b64encode(xml.replace(old, new, 1).encode()).decode()


def strip_signatures(b64):
    xml = base64.b64decode(b64).decode()
    xml = re.sub(r"<ds:Signature .*?</ds:Signature>", "", xml, flags=re.S)
    return base64.b64encode(xml.encode()).decode()


def resign_with_other_key(b64):
    from onelogin.saml2.utils import OneLogin_Saml2_Utils
    xml = base64.b64decode(strip_signatures(b64)).decode()
    signed = OneLogin_Saml2_Utils.add_sign(xml, read("other.key"), read("other.crt"),
                                           sign_algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                                           digest_algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
    if isinstance(signed, bytes):
        signed = signed.decode()
    return base64.b64encode(signed.encode()).decode()


# --- python3-saml ------------------------------------------------------------------------------

def onelogin_settings(base, entity, acs, encrypted=False, app=None):
    """python3-saml configured from our metadata: the app's own document when `app` is given
    (it says WantAuthnRequestsSigned="true" for an app with a certificate, which python3-saml
    then honours), else the org's."""
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
    from onelogin.saml2.settings import OneLogin_Saml2_Settings
    path = f"samlidp/{app}.xml" if app else "samlidp.xml"
    idp = OneLogin_Saml2_IdPMetadataParser.parse_remote(f"{base}/.well-known/{path}")
    settings = OneLogin_Saml2_IdPMetadataParser.merge_settings({
        "strict": True,
        "sp": {
            "entityId": entity,
            "assertionConsumerService": {"url": acs},
            "singleLogoutService": {"url": f"{SP_BASE}/slo"},
            "x509cert": cert_body(read("sp.crt")),
            "privateKey": read("sp.key"),
        },
        "security": {
            "authnRequestsSigned": True, "logoutRequestSigned": True,
            "wantAssertionsSigned": True, "wantMessagesSigned": True,
            "wantAssertionsEncrypted": encrypted,
            "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
        },
    }, idp)
    return OneLogin_Saml2_Settings(settings)


def request_data(url, post=None, get=None):
    u = urllib.parse.urlparse(url)
    return {"https": "off", "http_host": u.netloc, "server_port": str(u.port or 80),
            "script_name": u.path, "get_data": get or {}, "post_data": post or {}}


def onelogin_accepts(settings, acs, b64, request_id):
    from onelogin.saml2.response import OneLogin_Saml2_Response
    r = OneLogin_Saml2_Response(settings, b64)
    ok = r.is_valid(request_data(acs), request_id, raise_exceptions=False)
    return ok, (r.get_nameid() if ok else r.get_error())


def python3_saml(base, browser):
    from onelogin.saml2.auth import OneLogin_Saml2_Auth
    entity, acs = f"{SP_BASE}/py3/metadata", f"{SP_BASE}/py3/acs"
    settings = onelogin_settings(base, entity, acs, app="Py3Saml")
    check("python3-saml signs its requests, as the app's metadata asks",
          settings.get_security_data().get("authnRequestsSigned") is True)

    # SP-initiated, HTTP-Redirect, signed by python3-saml; the user logs in on the way.
    auth = OneLogin_Saml2_Auth(request_data(acs), settings)
    url = auth.login(return_to="relay-py3")
    request_id = auth.get_last_request_id()
    action, fields = browse(browser, url)
    check("python3-saml: Response POSTed to the registered ACS", action == acs, action)
    check("python3-saml: RelayState round trip", fields.get("RelayState") == "relay-py3", fields)
    b64 = fields["SAMLResponse"]
    auth = OneLogin_Saml2_Auth(request_data(acs, post=fields), settings)
    auth.process_response(request_id=request_id)
    check("python3-saml strict accepts the SP-initiated Response",
          not auth.get_errors() and auth.is_authenticated(), auth.get_last_error_reason())
    check("python3-saml: NameID is the username", auth.get_nameid() == USERNAME, auth.get_nameid())
    check("python3-saml: custom attribute", auth.get_attribute("mail") == [USERNAME],
          auth.get_attributes())
    name_id, session_index = auth.get_nameid(), auth.get_session_index()

    # Tampered copies.
    for label, copy, rid in [
        ("edited NameID", tamper(b64, f">{USERNAME}</saml:NameID>", ">eve@demo.example</saml:NameID>"), request_id),
        ("edited attribute", tamper(b64, f"<saml:AttributeValue>{USERNAME}<", "<saml:AttributeValue>eve@demo.example<"), request_id),
        ("stripped signatures", strip_signatures(b64), request_id),
        ("re-signed with another key", resign_with_other_key(b64), request_id),
        ("mismatched InResponseTo", b64, "_someone_else"),
    ]:
        ok, detail = onelogin_accepts(settings, acs, copy, rid)
        check(f"python3-saml refuses: {label}", not ok, detail)
    other = onelogin_settings(base, f"{SP_BASE}/other/metadata", acs)
    ok, detail = onelogin_accepts(other, acs, b64, request_id)
    check("python3-saml refuses: wrong audience", not ok, detail)
    from onelogin.saml2 import utils as ol_utils
    real_now = ol_utils.OneLogin_Saml2_Utils.now
    ol_utils.OneLogin_Saml2_Utils.now = staticmethod(lambda: real_now() + 3600)
    try:
        ok, detail = onelogin_accepts(settings, acs, b64, request_id)
    finally:
        ol_utils.OneLogin_Saml2_Utils.now = real_now
    check("python3-saml refuses: expired", not ok, detail)

    # Unsigned AuthnRequest to an SP with a certificate: refused, back to the ACS.
    from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
    unsigned = OneLogin_Saml2_Authn_Request(settings)
    query = urllib.parse.urlencode({"SAMLRequest": unsigned.get_request()})
    action, fields = browse(browser, f"{base}/idp/endpoint/HttpRedirect?{query}")
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    check("unsigned AuthnRequest refused with RequestDenied",
          "status:RequestDenied" in xml and "<saml:Assertion" not in xml, xml[:400])

    # IdP-initiated.
    action, fields = browse(browser, f"{base}/idp/login?app=Py3Saml&RelayState=idp-relay")
    auth = OneLogin_Saml2_Auth(request_data(acs, post=fields), settings)
    auth.process_response()
    check("python3-saml strict accepts the IdP-initiated Response",
          not auth.get_errors() and auth.is_authenticated(), auth.get_last_error_reason())
    check("IdP-initiated RelayState", fields.get("RelayState") == "idp-relay", fields)

    # xmlsec1 with the certificate pinned from our metadata.
    cert = settings.get_idp_cert()
    with tempfile.TemporaryDirectory() as d:
        with open(f"{d}/idp.crt", "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\n" + cert_body(cert) + "\n-----END CERTIFICATE-----\n")
        with open(f"{d}/r.xml", "wb") as f:
            f.write(base64.b64decode(b64))
        out = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", f"{d}/idp.crt",
                              "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
                              f"{d}/r.xml"], capture_output=True, text=True)
        check("xmlsec1 --verify accepts the Response with the pinned certificate",
              out.returncode == 0, out.stderr)

    # Single logout, signed by python3-saml: the IdP session ends.
    auth = OneLogin_Saml2_Auth(request_data(acs), settings)
    url = auth.logout(name_id=name_id, session_index=session_index, return_to="bye")
    r = browser.get(url, allow_redirects=False)
    check("single logout answers with a redirect to the registered SLO URL",
          r.status_code == 302 and r.headers["Location"].startswith(f"{SP_BASE}/slo?"),
          (r.status_code, r.headers.get("Location")))
    location = r.headers.get("Location", "")
    get = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location).query))
    auth = OneLogin_Saml2_Auth(request_data(f"{SP_BASE}/slo", get=get), settings)
    auth.process_slo(request_id=auth.get_last_request_id(), keep_local_session=True)
    check("python3-saml accepts the signed LogoutResponse", not auth.get_errors(),
          auth.get_last_error_reason())
    r = browser.get(f"{base}/idp/login?app=Py3Saml", allow_redirects=False)
    check("the IdP session ended with single logout",
          r.status_code == 303 and "/login?" in r.headers.get("Location", ""), r.status_code)


# --- pysaml2 -----------------------------------------------------------------------------------

def pysaml2_client(base, entity, acs, tmp, allow_unsolicited=False):
    from saml2 import BINDING_HTTP_POST
    from saml2.client import Saml2Client
    from saml2.config import SPConfig
    md = os.path.join(tmp, "idp-metadata.xml")
    with open(md, "w") as f:
        f.write(requests.get(f"{base}/.well-known/samlidp.xml").text)
    conf = SPConfig()
    conf.load({
        "entityid": entity,
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(acs, BINDING_HTTP_POST)]},
            "want_assertions_signed": True,
            "want_response_signed": True,
            "allow_unsolicited": allow_unsolicited,
            "authn_requests_signed": False,
            "name_id_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
        }},
        "metadata": {"local": [md]},
        "key_file": os.path.join(DATA, "sp.key"),
        "cert_file": os.path.join(DATA, "sp.crt"),
        "encryption_keypairs": [{"key_file": os.path.join(DATA, "sp.key"),
                                 "cert_file": os.path.join(DATA, "sp.crt")}],
        "xmlsec_binary": "/usr/bin/xmlsec1",
    })
    return Saml2Client(conf)


def pysaml2_accepts(client, b64, outstanding):
    from saml2 import BINDING_HTTP_POST
    try:
        r = client.parse_authn_request_response(b64, BINDING_HTTP_POST, outstanding=outstanding)
        return r is not None, (str(r.name_id.text) if r is not None else None)
    except Exception as e:  # pysaml2 refuses by raising
        return False, f"{type(e).__name__}: {e}"


def pysaml2(base, browser, tmp):
    from saml2 import BINDING_HTTP_POST
    entity, acs = f"{SP_BASE}/pysaml2/metadata", f"{SP_BASE}/pysaml2/acs"
    client = pysaml2_client(base, entity, acs, tmp)
    idp = f"{base}"
    request_id, info = client.prepare_for_authenticate(entityid=idp, relay_state="relay-pysaml2",
                                                       binding=BINDING_HTTP_POST)
    html = info["data"]
    action, fields = form_fields(html)
    # HTTP-POST binding; the user is not logged in yet, so the login page comes between.
    r = browser.post(action, data=fields, allow_redirects=False)
    assert r.status_code == 303, (r.status_code, r.text[:300])
    action, fields = browse(browser, urllib.parse.urljoin(action, r.headers["Location"]))
    check("pysaml2: Response POSTed to the registered ACS", action == acs, action)
    check("pysaml2: RelayState round trip", fields.get("RelayState") == "relay-pysaml2", fields)
    b64 = fields["SAMLResponse"]
    ok, detail = pysaml2_accepts(client, b64, {request_id: "/"})
    check("pysaml2 accepts the SP-initiated Response (HTTP-POST binding)", ok, detail)
    for label, copy, outstanding in [
        ("edited NameID", tamper(b64, f">{USERNAME}</saml:NameID>", ">eve@demo.example</saml:NameID>"), {request_id: "/"}),
        ("edited attribute", tamper(b64, f"<saml:AttributeValue>{USERNAME}<", "<saml:AttributeValue>eve@demo.example<"), {request_id: "/"}),
        ("stripped signatures", strip_signatures(b64), {request_id: "/"}),
        ("re-signed with another key", resign_with_other_key(b64), {request_id: "/"}),
        ("mismatched InResponseTo", b64, {"_someone_else": "/"}),
    ]:
        ok, detail = pysaml2_accepts(client, copy, outstanding)
        check(f"pysaml2 refuses: {label}", not ok, detail)
    other = pysaml2_client(base, f"{SP_BASE}/other/metadata", acs, tmp)
    ok, detail = pysaml2_accepts(other, b64, {request_id: "/"})
    check("pysaml2 refuses: wrong audience", not ok, detail)

    # IdP-initiated.
    action, fields = browse(browser, f"{base}/idp/login?app=PySaml2")
    unsolicited = pysaml2_client(base, entity, acs, tmp, allow_unsolicited=True)
    ok, detail = pysaml2_accepts(unsolicited, fields["SAMLResponse"], {})
    check("pysaml2 accepts the IdP-initiated Response", ok, detail)

    # Encrypted assertions (the EncSp app registers the SP certificate for encryption).
    enc_entity, enc_acs = f"{SP_BASE}/enc/metadata", f"{SP_BASE}/enc/acs"
    action, fields = browse(browser, f"{base}/idp/login?app=EncSp")
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    check("the EncSp Response carries an EncryptedAssertion", "EncryptedAssertion" in xml, xml[:300])
    enc_client = pysaml2_client(base, enc_entity, enc_acs, tmp, allow_unsolicited=True)
    ok, detail = pysaml2_accepts(enc_client, fields["SAMLResponse"], {})
    check("pysaml2 decrypts and accepts the encrypted assertion", ok, detail)
    from onelogin.saml2.auth import OneLogin_Saml2_Auth
    settings = onelogin_settings(base, enc_entity, enc_acs, encrypted=True)
    auth = OneLogin_Saml2_Auth(request_data(enc_acs, post=fields), settings)
    auth.process_response()
    check("python3-saml decrypts and accepts the encrypted assertion",
          not auth.get_errors() and auth.get_nameid() == USERNAME, auth.get_last_error_reason())


# --- a headless Chromium user -------------------------------------------------------------------

BROWSER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser")


def chromium(url, state):
    """What Chromium POSTed to the SP after opening `url` (logging in when asked)."""
    out = subprocess.run(
        ["node", os.path.join(BROWSER_DIR, "browse.js"), url, USERNAME, PASSWORD, SP_BASE, state],
        capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise AssertionError(f"browse.js failed: {out.stderr[-2000:]}")
    posted = json.loads(out.stdout)
    assert posted["method"] == "POST", posted
    return posted["url"], dict(urllib.parse.parse_qsl(posted["body"], keep_blank_values=True))


def chromium_flows(base, tmp):
    from onelogin.saml2.auth import OneLogin_Saml2_Auth
    from saml2 import BINDING_HTTP_REDIRECT
    state = os.path.join(tmp, "chromium-state.json")
    entity, acs = f"{SP_BASE}/py3/metadata", f"{SP_BASE}/py3/acs"
    settings = onelogin_settings(base, entity, acs, app="Py3Saml")

    # SP-initiated: python3-saml's signed Redirect, the login page typed into by Chromium,
    # the auto-submitting form run by Chromium's JavaScript.
    auth = OneLogin_Saml2_Auth(request_data(acs), settings)
    url = auth.login(return_to="chromium-relay")
    request_id = auth.get_last_request_id()
    action, fields = chromium(url, state)
    check("chromium: the form went to the registered ACS", action == acs, action)
    check("chromium: RelayState round trip", fields.get("RelayState") == "chromium-relay", fields)
    auth = OneLogin_Saml2_Auth(request_data(acs, post=fields), settings)
    auth.process_response(request_id=request_id)
    check("chromium + python3-saml strict: SP-initiated accepted",
          not auth.get_errors() and auth.get_nameid() == USERNAME, auth.get_last_error_reason())
    ok, detail = onelogin_accepts(
        settings, acs,
        tamper(fields["SAMLResponse"], f">{USERNAME}</saml:NameID>", ">eve@demo.example</saml:NameID>"),
        request_id)
    check("chromium + python3-saml: edited NameID refused", not ok, detail)

    # IdP-initiated, same browser session: no login page this time.
    action, fields = chromium(f"{base}/idp/login?app=Py3Saml&RelayState=chromium-idp", state)
    auth = OneLogin_Saml2_Auth(request_data(acs, post=fields), settings)
    auth.process_response()
    check("chromium + python3-saml strict: IdP-initiated accepted",
          not auth.get_errors() and auth.is_authenticated(), auth.get_last_error_reason())

    # pysaml2, SP-initiated by the Redirect binding, then IdP-initiated.
    p_entity, p_acs = f"{SP_BASE}/pysaml2/metadata", f"{SP_BASE}/pysaml2/acs"
    client = pysaml2_client(base, p_entity, p_acs, tmp)
    rid, info = client.prepare_for_authenticate(entityid=base, relay_state="chromium-pysaml2",
                                                binding=BINDING_HTTP_REDIRECT)
    location = dict(info["headers"])["Location"]
    action, fields = chromium(location, state)
    ok, detail = pysaml2_accepts(client, fields["SAMLResponse"], {rid: "/"})
    check("chromium + pysaml2: SP-initiated accepted", ok and action == p_acs, detail)
    action, fields = chromium(f"{base}/idp/login?app=PySaml2", state)
    unsolicited = pysaml2_client(base, p_entity, p_acs, tmp, allow_unsolicited=True)
    ok, detail = pysaml2_accepts(unsolicited, fields["SAMLResponse"], {})
    check("chromium + pysaml2: IdP-initiated accepted", ok, detail)


def main():
    tmp = tempfile.mkdtemp(prefix="eca-saml-interop-")
    child, base = start_server(tmp)
    try:
        session = soap_login(base)
        sp_cert = read("sp.crt")
        deploy(base, session, [
            saml_app("Py3Saml", f"{SP_BASE}/py3/metadata", f"{SP_BASE}/py3/acs",
                     f"<certificate>{sp_cert}</certificate>"
                     "<singleLogoutBindingType>RedirectBinding</singleLogoutBindingType>"
                     f"<singleLogoutUrl>{SP_BASE}/slo</singleLogoutUrl>"),
            saml_app("PySaml2", f"{SP_BASE}/pysaml2/metadata", f"{SP_BASE}/pysaml2/acs", ""),
            saml_app("EncSp", f"{SP_BASE}/enc/metadata", f"{SP_BASE}/enc/acs",
                     f"<encryptionCertificate>{sp_cert}</encryptionCertificate>"
                     "<encryptionType>AES_256</encryptionType>"),
        ])
        browser = requests.Session()
        python3_saml(base, browser)
        pysaml2(base, requests.Session(), tmp)
        if os.environ.get("SAML_INTEROP_CHROMIUM", "1") == "1":
            chromium_flows(base, tmp)
        else:
            print("NOTE: SAML_INTEROP_CHROMIUM=0: the headless Chromium flows are skipped")
    finally:
        child.terminate()
        child.wait(timeout=30)
    print("FAILED: " + ", ".join(FAILURES) if FAILURES else "all SAML interop checks passed")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
