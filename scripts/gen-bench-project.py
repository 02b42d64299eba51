#!/usr/bin/env python3
"""Write an SFDX project of N External Client Apps for benchmarking `eca validate`.

Every app has the five files of a typical local OAuth app, all valid and in Salesforce's
canonical form (XML declaration, metadata namespace on the root, children in alphabetical
order, four-space indentation, trailing newline), so a correct validator reports nothing.

    scripts/gen-bench-project.py OUT_DIR [--apps N]

Standard library only (Python 3.11+). The output directory must not exist yet, or be empty.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from xml.sax.saxutils import escape

METADATA_NS = "http://soap.sforce.com/2006/04/metadata"
API_VERSION = "66.0"
PACKAGE_DIR = "force-app"

# Values are either a string (a leaf) or a list of (name, value) pairs (a nested element).
Value = str | list[tuple[str, "Value"]]


def canonical(root: str, children: list[tuple[str, Value]]) -> str:
    """Renders a metadata document the way a Salesforce retrieve writes it."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<{root} xmlns="{METADATA_NS}">']
    _write_children(lines, children, 1)
    lines.append(f"</{root}>")
    return "\n".join(lines) + "\n"


def _write_children(lines: list[str], children: list[tuple[str, Value]], depth: int) -> None:
    indent = "    " * depth
    # A stable sort: repeated elements (custom attributes) keep their relative order.
    for name, value in sorted(children, key=lambda child: child[0]):
        if isinstance(value, str):
            lines.append(f"{indent}<{name}>{escape(value)}</{name}>")
        else:
            lines.append(f"{indent}<{name}>")
            _write_children(lines, value, depth + 1)
            lines.append(f"{indent}</{name}>")


def app_files(n: int) -> dict[str, str]:
    """The five files of app number `n`, keyed by path under force-app/main/default."""
    app = f"App{n}"
    return {
        f"externalClientApps/{app}.eca-meta.xml": canonical(
            "ExternalClientApplication",
            [
                ("contactEmail", f"owner{n}@example.com"),
                ("description", f"Benchmark app {n}"),
                ("distributionState", "Local"),
                ("isProtected", "false"),
                ("label", app),
            ],
        ),
        f"extlClntAppOauthSettings/{app}_oauth.ecaOauth-meta.xml": canonical(
            "ExtlClntAppOauthSettings",
            [
                ("commaSeparatedOauthScopes", "Api, RefreshToken"),
                ("customAttributes", [("formula", "$User.Email"), ("key", "email")]),
                ("customAttributes", [("formula", "$User.Email"), ("key", "contact")]),
                ("externalClientApplication", app),
                ("label", f"{app}_oauth"),
            ],
        ),
        f"extlClntAppGlobalOauthSets/{app}_glbloauth.ecaGlblOauth-meta.xml": canonical(
            "ExtlClntAppGlobalOauthSettings",
            [
                ("callbackUrl", f"https://app{n}.example.com/callback"),
                ("externalClientApplication", app),
                ("isConsumerSecretOptional", "false"),
                ("isPkceRequired", "true"),
                ("isSecretRequiredForRefreshToken", "true"),
                ("label", f"{app}_glbloauth"),
            ],
        ),
        f"extlClntAppOauthPolicies/{app}_oauthPlcy.ecaOauthPlcy-meta.xml": canonical(
            "ExtlClntAppOauthConfigurablePolicies",
            [
                ("externalClientApplication", app),
                ("ipRelaxationPolicyType", "Enforce"),
                ("isClientCredentialsFlowEnabled", "false"),
                ("label", f"{app}_oauthPlcy"),
                ("permittedUsersPolicyType", "AllSelfAuthorized"),
                ("refreshTokenPolicyType", "SpecificLifetime"),
                ("refreshTokenValidityPeriod", "365"),
                ("refreshTokenValidityUnit", "Days"),
                ("requiredSessionLevel", "STANDARD"),
            ],
        ),
        f"extlClntAppPolicies/{app}_plcy.ecaPlcy-meta.xml": canonical(
            "ExtlClntAppConfigurablePolicies",
            [
                ("externalClientApplication", app),
                ("isEnabled", "true"),
                ("isOauthPluginEnabled", "true"),
                ("label", f"{app}_plcy"),
                ("startPage", "None"),
            ],
        ),
    }


SFDX_PROJECT = {
    "packageDirectories": [{"path": PACKAGE_DIR, "default": True}],
    "name": "validate-bench",
    "namespace": "",
    "sourceApiVersion": API_VERSION,
}

FORCEIGNORE = """\
# Files the Salesforce CLI (and `eca`) skip when reading the project.
package.xml
**/jsconfig.json
**/.eslintrc.json
**/__tests__/**
"""


def generate(out: Path, apps: int) -> int:
    """Writes the project and returns the number of metadata files written."""
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} exists and is not empty; remove it or choose another directory")
    root = out / PACKAGE_DIR / "main" / "default"
    for directory in {Path(p).parent for p in app_files(0)}:
        (root / directory).mkdir(parents=True, exist_ok=True)
    (out / "sfdx-project.json").write_text(json.dumps(SFDX_PROJECT, indent=2) + "\n")
    (out / ".forceignore").write_text(FORCEIGNORE)
    written = 0
    for n in range(1, apps + 1):
        for relative, text in app_files(n).items():
            (root / relative).write_text(text, encoding="utf-8", newline="\n")
            written += 1
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="directory to create the project in")
    parser.add_argument("--apps", type=int, default=10_000, help="number of apps (default 10000)")
    args = parser.parse_args(argv)
    if args.apps < 1:
        parser.error("--apps must be at least 1")
    written = generate(args.out, args.apps)
    print(f"wrote {args.apps} apps ({written} metadata files) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
