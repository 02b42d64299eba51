"""The server the Python interop tests talk to: a real `eca serve` with apps deployed by the CLI.

One server per test session, on 127.0.0.1 with a free port and a temporary data directory.
The apps are made with `eca app new`, given fixed consumer keys and secrets in their global
OAuth settings (accepted on the first deploy, spec/metadata.md §2.3) and deployed with
`eca deploy`, as a user would. `ECA_BIN` overrides the binary (default target/debug/eca).
"""

import html.parser
import os
import re
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]
ECA = os.environ.get("ECA_BIN", str(ROOT / "target" / "debug" / "eca"))
ADMIN = "admin@demo.example"
PASSWORD = "Interop-Admin-Password-42"
API_USER = "api@demo.example"
# Nothing listens there: the tests read the redirect's Location instead of following it.
CALLBACK = "http://127.0.0.1:1717/OauthRedirect"


@dataclass(frozen=True)
class App:
    name: str
    client_id: str
    client_secret: str


WEB = App("Py_Web_App", "3MVG9Interop.Python.Web.App.Key", "PyWebSecret0123456789abcdef0123456789abcdef")
ROTATING = App("Py_Rotating_App", "3MVG9Interop.Python.Rotating.Key", "PyRotSecret0123456789abcdef0123456789abcdef")
CC = App("Py_Cc_App", "3MVG9Interop.Python.ClientCreds.Key", "PyCcSecret0123456789abcdef0123456789abcdef0")
DEVICE = App("Py_Device_App", "3MVG9Interop.Python.Device.Key", "PyDevSecret0123456789abcdef0123456789abcdef")
JWT = App("Py_Jwt_App", "3MVG9Interop.Python.JwtBearer.Key", "PyJwtSecret0123456789abcdef0123456789abcdef")


@dataclass
class Server:
    url: str
    project: Path
    log: Path

    @property
    def token_url(self) -> str:
        return f"{self.url}/services/oauth2/token"

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/services/oauth2/authorize"

    @property
    def userinfo_url(self) -> str:
        return f"{self.url}/services/oauth2/userinfo"

    def jwt_key(self) -> bytes:
        """The private key `eca app new --flows jwt-bearer` generated for JWT's certificate."""
        return (self.project / "certs" / f"{JWT.name}.key").read_bytes()


def run_eca(config: Path, *args: str, stdin: str = "") -> str:
    env = {**os.environ, "ECA_CONFIG_DIR": str(config)}
    done = subprocess.run(
        [ECA, *args], input=stdin, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"eca {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def set_credentials(project: Path, app: App, extra: str = "") -> None:
    """Puts the fixed consumer key and secret (and `extra` elements) into the app's global
    OAuth settings file, which `eca app new` wrote without them."""
    path = next(project.rglob(f"{app.name}_glbloauth.ecaGlblOauth-meta.xml"))
    xml = path.read_text()
    added = (
        f"    <consumerKey>{app.client_id}</consumerKey>\n"
        f"    <consumerSecret>{app.client_secret}</consumerSecret>\n{extra}"
    )
    xml = xml.replace("</ExtlClntAppGlobalOauthSettings>", added + "</ExtlClntAppGlobalOauthSettings>")
    path.write_text(xml)


def start_server(tmp: Path) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECA_")}
    env["ECA_ADMIN_PASSWORD"] = PASSWORD
    log = open(tmp / "server.log", "w")
    child = subprocess.Popen(
        [ECA, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp / "data")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    # Read stdout on a thread: select() on a buffered pipe misses lines already buffered.
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in child.stdout], daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if child.poll() is not None:
                break
            continue
        found = re.match(r"^listening on (\S+)", line)
        if found:
            return child, found.group(1)
    child.kill()
    raise RuntimeError(f"eca serve did not start; see {tmp / 'server.log'}")


@pytest.fixture(scope="session")
def server():
    tmp = Path(tempfile.mkdtemp(prefix="eca-py-interop-"))
    child, url = start_server(tmp)
    try:
        config = tmp / "config"
        run_eca(config, "login", "--instance-url", url, "--username", ADMIN, "--password-stdin",
                "--alias", "it", stdin=PASSWORD + "\n")
        run_eca(config, "user", "create", "--username", API_USER, "--last-name", "Integration",
                "--api-only", "--target-org", "it")
        run_eca(config, "project", "init", "proj", "--output-dir", str(tmp))
        project = tmp / "proj"
        new = lambda *args: run_eca(config, "app", "new", *args, "--project-dir", str(project))  # noqa: E731
        scopes = "Api,RefreshToken,OpenID,Profile,Email"
        new(WEB.name, "--flows", "web", "--scopes", scopes, "--callback", CALLBACK)
        new(ROTATING.name, "--flows", "web", "--scopes", scopes, "--callback", CALLBACK)
        new(CC.name, "--flows", "client-credentials", "--run-as", API_USER, "--scopes", "Api")
        new(JWT.name, "--flows", "jwt-bearer", "--scopes", "Api,OpenID,Profile")
        new(DEVICE.name, "--flows", "device", "--scopes", "Api,RefreshToken")
        for app in (WEB, CC, JWT, DEVICE):
            set_credentials(project, app)
        set_credentials(
            project, ROTATING, "    <isRefreshTokenRotationEnabled>true</isRefreshTokenRotationEnabled>\n"
        )
        # Supplied credentials come with warnings (they are taken on the first deploy only).
        out = run_eca(config, "deploy", "--source-dir", str(project), "--target-org", "it", "--ignore-warnings")
        assert "Succeeded" in out, out
        yield Server(url=url, project=project, log=tmp / "server.log")
    finally:
        child.terminate()
        child.wait(timeout=30)
    shutil.rmtree(tmp, ignore_errors=True)


class _Forms(html.parser.HTMLParser):
    """The forms of a page: their action and named inputs (hidden and submit included)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "inputs": {}, "ids": set()})
        elif tag == "input" and self.forms:
            form = self.forms[-1]
            if a.get("id"):
                form["ids"].add(a["id"])
            if a.get("name") and a.get("type") != "submit":
                form["inputs"][a["name"]] = a.get("value") or ""


def only_form(page: requests.Response) -> dict:
    parser = _Forms()
    parser.feed(page.text)
    assert len(parser.forms) == 1, f"{page.status_code} {page.url}: expected one form:\n{page.text}"
    form = parser.forms[0]
    form["url"] = urllib.parse.urljoin(page.url, form["action"] or page.url)
    return form


def _follow(session: requests.Session, response: requests.Response) -> requests.Response:
    """Follows redirects on the server; stops at one that leaves for the callback."""
    while response.is_redirect and not response.headers["Location"].startswith(CALLBACK):
        response = session.get(urllib.parse.urljoin(response.url, response.headers["Location"]), allow_redirects=False)
    return response


def log_in_and_decide(session: requests.Session, authorize_url: str, button: str = "oaapprove") -> str:
    """Walks the browser part of the web-server flow with plain HTTP, as a browser without
    JavaScript would: the authorize URL leads to the login form (its hidden CSRF token is read
    from the page), the login leads back to authorize and to the consent page, where `button`
    is pressed. A user who approved the app before sees no consent page (add `prompt=consent`
    to the authorize URL to ask again). Returns the Location of the redirect to the callback."""
    page = _follow(session, session.get(authorize_url, allow_redirects=False))
    assert page.status_code == 200, page.text
    login = only_form(page)
    assert {"username", "password", "Login"} <= login["ids"], login
    assert login["inputs"].get("csrf_token"), login
    fields = {**login["inputs"], "username": ADMIN, "password": PASSWORD}
    decided = _follow(session, session.post(login["url"], data=fields, allow_redirects=False))
    if decided.status_code == 200:
        form = only_form(decided)
        assert {"oaapprove", "oadeny"} <= form["ids"], form
        label = "Allow" if button == "oaapprove" else "Deny"
        decided = session.post(form["url"], data={**form["inputs"], button: label}, allow_redirects=False)
    else:
        assert button == "oaapprove", "no consent page to deny on"
    assert decided.status_code in (302, 303), f"{decided.status_code}: {decided.text}"
    location = decided.headers["Location"]
    assert location.startswith(CALLBACK + "?"), location
    return location


def activate_device(session: requests.Session, url: str, button: str = "oaapprove", user_code: str | None = None) -> str:
    """Walks the device activation page as a user would: `url` (the verification URI, or the
    complete one) leads to the login form, then back to the page with the code field; the code
    is submitted (typed in when `user_code` is given), then `button` pressed on the consent
    form. Returns the text of the result page."""
    page = _follow(session, session.get(url, allow_redirects=False))
    login = only_form(page)
    assert {"username", "password", "Login"} <= login["ids"], login
    page = _follow(
        session,
        session.post(login["url"], data={**login["inputs"], "username": ADMIN, "password": PASSWORD}, allow_redirects=False),
    )
    assert page.status_code == 200, page.text
    form = only_form(page)
    assert {"user_code", "connect"} <= form["ids"], form
    fields = dict(form["inputs"])
    if user_code is not None:
        fields["user_code"] = user_code
    assert fields["user_code"], f"no code filled in: {page.text}"
    page = session.post(form["url"], data={**fields, "connect": "Connect"})
    assert page.status_code == 200, page.text
    consent = only_form(page)
    assert {"oaapprove", "oadeny"} <= consent["ids"], page.text
    label = "Allow" if button == "oaapprove" else "Deny"
    done = session.post(consent["url"], data={**consent["inputs"], button: label})
    assert done.status_code == 200, done.text
    found = re.search(r'<p id="result">([^<]*)</p>', done.text)
    assert found, done.text
    return found.group(1)
