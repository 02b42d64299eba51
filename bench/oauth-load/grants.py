"""Prepares the JWT bearer and refresh token runs of scripts/bench-oauth (issue 5).

With the eca CLI already logged in (ECA_CONFIG_DIR), it adds two apps to a new project and
deploys them, as a user would:
  - Bench_Jwt (`eca app new --flows jwt-bearer`: a key pair, the certificate in the global
    settings, the admin's profile pre-authorized);
  - Bench_Web (`--flows web`, refresh tokens, no rotation, so one refresh token can be used
    over and over).
Then it signs one JWT bearer assertion (openssl, RS256, valid for an hour) and walks the web
server flow once (login page, consent page, code, token) for a refresh token, and prints
shell assignments: JWT_KEY, JWT_ASSERTION, WEB_KEY, WEB_SECRET, REFRESH_TOKEN.

Standard library only. Usage: grants.py ECA_BIN BASE_URL WORK_DIR
"""

import base64
import hashlib
import html.parser
import http.cookiejar
import json
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ADMIN = "admin@demo.example"
PASSWORD = "bench-Admin-password-1"
CALLBACK = "http://localhost:9/callback"
JWT_KEY = "3MVG9BenchJwtBearerConsumerKey0123456789"
JWT_SECRET = "BENCHJWT0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567"
WEB_KEY = "3MVG9BenchWebServerConsumerKey0123456789"
WEB_SECRET = "BENCHWEB0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def eca(binary: str, *args: str) -> str:
    done = subprocess.run([binary, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"eca {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def set_credentials(project: Path, app: str, key: str, secret: str) -> None:
    path = next(project.rglob(f"{app}_glbloauth.ecaGlblOauth-meta.xml"))
    text = path.read_text().replace(
        "</ExtlClntAppGlobalOauthSettings>",
        f"    <consumerKey>{key}</consumerKey>\n    <consumerSecret>{secret}</consumerSecret>\n"
        "</ExtlClntAppGlobalOauthSettings>",
    )
    path.write_text(text)


def assertion(key_file: Path, base: str) -> str:
    header = b64url(json.dumps({"alg": "RS256"}).encode())
    claims = {"iss": JWT_KEY, "sub": ADMIN, "aud": base, "exp": int(time.time()) + 3600}
    signing_input = f"{header}.{b64url(json.dumps(claims).encode())}"
    signature = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", str(key_file)],
        input=signing_input.encode(),
        capture_output=True,
        check=True,
    ).stdout
    return f"{signing_input}.{b64url(signature)}"


class Forms(html.parser.HTMLParser):
    """Every input of a page by name (hidden and submit included), and the first form's action."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = a.get("action")
        if tag in ("input", "button") and a.get("name"):
            self.fields.setdefault(a["name"], a.get("value") or "")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def refresh_token(base: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())

    def send(url, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            reply = opener.open(urllib.parse.urljoin(base + "/", url), data)
            return reply.status, reply.headers, reply.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    verifier = b64url(b"bench-verifier-" * 4)
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": WEB_KEY,
            "redirect_uri": CALLBACK,
            "scope": "api refresh_token",
            "code_challenge": challenge,
        }
    )
    url = f"{base}/services/oauth2/authorize?{query}"
    for _ in range(6):
        status, headers, body = send(url)
        if status in (302, 303):
            url = urllib.parse.urljoin(url, headers["Location"])
            if url.startswith(CALLBACK):
                break
            continue
        forms = Forms()
        forms.feed(body)
        fields = dict(forms.fields)
        if "password" in fields:
            fields.update(username=ADMIN, password=PASSWORD)
            fields.pop("Login", None)
        else:
            fields = {k: v for k, v in fields.items() if k != "oadeny"}
        status, headers, _ = send(urllib.parse.urljoin(url, forms.action or url), fields)
        url = urllib.parse.urljoin(url, headers.get("Location", url))
        if url.startswith(CALLBACK):
            break
    code = urllib.parse.parse_qs(urllib.parse.urlparse(url).query).get("code")
    if not code:
        sys.exit(f"the web server flow did not end at the callback: {url}")
    status, _, body = send(
        "services/oauth2/token",
        {
            "grant_type": "authorization_code",
            "code": code[0],
            "client_id": WEB_KEY,
            "client_secret": WEB_SECRET,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
    )
    token = json.loads(body).get("refresh_token")
    if status != 200 or not token:
        sys.exit(f"no refresh token: {status} {body}")
    return token


def main() -> None:
    binary, base, work = sys.argv[1], sys.argv[2].rstrip("/"), Path(sys.argv[3])
    eca(binary, "project", "init", "grants", "--output-dir", str(work))
    project = work / "grants"
    eca(binary, "app", "new", "Bench_Jwt", "--flows", "jwt-bearer", "--scopes", "Api",
        "--project-dir", str(project))
    eca(binary, "app", "new", "Bench_Web", "--flows", "web", "--scopes", "Api,RefreshToken",
        "--callback", CALLBACK, "--project-dir", str(project))
    set_credentials(project, "Bench_Jwt", JWT_KEY, JWT_SECRET)
    set_credentials(project, "Bench_Web", WEB_KEY, WEB_SECRET)
    eca(binary, "deploy", "--source-dir", str(project), "--ignore-warnings")
    values = {
        "JWT_KEY": JWT_KEY,
        "JWT_ASSERTION": assertion(project / "certs" / "Bench_Jwt.key", base),
        "WEB_KEY": WEB_KEY,
        "WEB_SECRET": WEB_SECRET,
        "REFRESH_TOKEN": refresh_token(base),
    }
    for name, value in values.items():
        print(f"{name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
