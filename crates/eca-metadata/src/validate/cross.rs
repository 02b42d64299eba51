//! Rules across files: every satellite names a header in the project, one file per app and
//! plugin, global settings come with OAuth settings, client credentials have a run-as user,
//! SAML stays on Local apps, and packaging directories hold only packageable types and
//! Packaged apps.

use std::collections::HashMap;

use super::Checked;
use crate::catalog::MetadataType;
use crate::diagnostic::{Code, Diagnostic, Severity, display_path};
use crate::project::Project;
use crate::schema;
use crate::xml::{Element, Span};

fn value<'a>(root: &'a Element, name: &str) -> Option<&'a str> {
    root.child(name)
        .map(|e| e.text.trimmed())
        .filter(|v| !v.is_empty())
}

fn is_true(root: &Element, name: &str) -> bool {
    matches!(value(root, name), Some("true" | "1"))
}

fn is_false(root: &Element, name: &str) -> bool {
    matches!(value(root, name), Some("false" | "0"))
}

fn span_of(root: &Element, name: &str) -> Span {
    root.child(name).map_or(root.span, |e| e.text.span)
}

/// An app's files, by type.
#[derive(Default)]
struct App<'a> {
    header: Option<&'a Checked>,
    satellites: HashMap<MetadataType, Vec<&'a Checked>>,
}

impl<'a> App<'a> {
    fn one(&self, ty: MetadataType) -> Option<&'a Checked> {
        self.satellites.get(&ty).and_then(|v| v.first().copied())
    }
}

pub(super) fn check(project: &Project, components: &[Checked]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let namespace = project.namespace();
    // The name a satellite refers to, with the project's own namespace prefix removed.
    let local_name = |name: &str| -> String {
        match (namespace, name.split_once("__")) {
            (Some(ns), Some((prefix, rest))) if prefix == ns => rest.to_owned(),
            _ => name.to_owned(),
        }
    };

    duplicates(components, &mut out);

    let mut apps: HashMap<String, App<'_>> = HashMap::new();
    for c in components {
        match c.component.ty() {
            MetadataType::ExternalClientApplication => {
                apps.entry(c.component.full_name().to_owned())
                    .or_default()
                    .header = Some(c);
            }
            MetadataType::OrgSettings => {}
            ty => {
                let Some(app) = value(&c.root, "externalClientApplication") else {
                    continue;
                };
                if let Some((prefix, _)) = app.split_once("__")
                    && namespace != Some(prefix)
                {
                    let help = match namespace {
                        Some(ns) => format!("this project's namespace is `{ns}`; write `{ns}__…` or the plain app name"),
                        None => "this project has no namespace in sfdx-project.json; write the plain app name".to_owned(),
                    };
                    out.push(
                        Diagnostic::new(
                            Code::NamespaceMismatch,
                            &c.path,
                            span_of(&c.root, "externalClientApplication"),
                            format!("`{app}` carries the namespace prefix `{prefix}`"),
                        )
                        .with_help(help),
                    );
                }
                apps.entry(local_name(app))
                    .or_default()
                    .satellites
                    .entry(ty)
                    .or_default()
                    .push(c);
            }
        }
    }

    let mut names: Vec<&String> = apps.keys().collect();
    names.sort();
    let headers: Vec<&str> = names
        .iter()
        .filter(|n| apps[n.as_str()].header.is_some())
        .map(|n| n.as_str())
        .collect();
    for name in &names {
        check_app(name, &apps[name.as_str()], &headers, &mut out);
    }
    packaging(project, components, &mut out);
    out
}

/// Component names are unique case-insensitively (as the org stores them): `Shop` and `shop`
/// are one component, and a deploy would keep only one of the two files.
fn duplicates(components: &[Checked], out: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<(MetadataType, String), &Checked> = HashMap::new();
    for c in components {
        let key = (c.component.ty(), c.component.full_name().to_lowercase());
        if let Some(first) = seen.get(&key) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateComponent,
                    &c.path,
                    c.root.span,
                    format!(
                        "{} `{}` is also defined in {}",
                        key.0.name(),
                        c.component.full_name(),
                        display_path(&first.path)
                    ),
                )
                .with_help("a component may exist once per project; remove one of the files"),
            );
        } else {
            seen.insert(key, c);
        }
    }
}

fn check_app(name: &str, app: &App<'_>, headers: &[&str], out: &mut Vec<Diagnostic>) {
    let mut types: Vec<&MetadataType> = app.satellites.keys().collect();
    types.sort();
    for ty in types {
        let files = &app.satellites[ty];
        if app.header.is_none() {
            for f in files {
                out.push(
                    Diagnostic::new(
                        Code::UnknownHeader,
                        &f.path,
                        span_of(&f.root, "externalClientApplication"),
                        format!("externalClientApplication `{name}` names no app in this project"),
                    )
                    .with_help(match crate::suggest::nearest(name, headers.iter().copied()) {
                        Some(near) => format!("did you mean `{near}`? (the deploy fails with INVALID_CROSS_REFERENCE_KEY)"),
                        None => format!(
                            "add externalClientApps/{}, or correct the name (the deploy fails with INVALID_CROSS_REFERENCE_KEY)",
                            MetadataType::ExternalClientApplication.source_file_name(name)
                        ),
                    }),
                );
            }
        }
        for extra in files.iter().skip(1) {
            out.push(
                Diagnostic::new(
                    Code::DuplicatePlugin,
                    &extra.path,
                    extra.root.span,
                    format!(
                        "app `{name}` already has a {} ({})",
                        ty.name(),
                        display_path(&files[0].path)
                    ),
                )
                .with_help("each app has one file per plugin; a second policy record fails the deploy with `duplicate value found: ExternalClientApplicationId`"),
            );
        }
    }

    let global = app.one(MetadataType::GlobalOauthSettings);
    let oauth = app.one(MetadataType::OauthSettings);
    let policies = app.one(MetadataType::OauthPolicies);
    let app_policies = app.one(MetadataType::AppPolicies);

    if let Some(g) = global {
        if oauth.is_none() {
            out.push(
                Diagnostic::new(
                    Code::GlobalWithoutOauth,
                    &g.path,
                    g.root.span,
                    format!("app `{name}` has global OAuth settings but no OAuth settings"),
                )
                .with_help(format!(
                    "add extlClntAppOauthSettings/{} with the scopes; Salesforce refuses this with \"doesn't have a valid OAuth settings configuration\"",
                    MetadataType::OauthSettings.source_file_name(&format!("{name}_oauth"))
                )),
            );
        }
        if is_true(&g.root, "isClientCredentialsFlowEnabled") {
            let has_user = policies.is_some_and(|p| {
                is_true(&p.root, "isClientCredentialsFlowEnabled")
                    && value(&p.root, "clientCredentialsFlowUser").is_some()
            });
            if !has_user {
                out.push(
                    Diagnostic::new(
                        Code::ClientCredentialsUser,
                        &g.path,
                        span_of(&g.root, "isClientCredentialsFlowEnabled"),
                        format!("client credentials are enabled for `{name}`, but its OAuth policies name no run-as user"),
                    )
                    .with_help("in the .ecaOauthPlcy file set isClientCredentialsFlowEnabled to true and clientCredentialsFlowUser to an API Only user; tokens are refused with `no client credentials user enabled` until then"),
                );
            }
        }
    }

    if let Some(saml) = app.one(MetadataType::SamlPolicies) {
        if let Some(h) = app.header
            && value(&h.root, "distributionState") == Some("Packaged")
        {
            out.push(
                Diagnostic::new(
                    Code::PackagedSaml,
                    &saml.path,
                    saml.root.span,
                    format!("app `{name}` is Packaged, and SAML apps must be Local"),
                )
                .with_help(format!(
                    "set distributionState to Local in {}, or remove the SAML policies",
                    display_path(&h.path)
                )),
            );
        }
        if let Some(p) = app_policies
            && (is_false(&p.root, "isSamlPluginEnabled") || is_false(&p.root, "isEnabled"))
        {
            out.push(
                Diagnostic::new(
                    Code::SamlPluginDisabled,
                    &saml.path,
                    saml.root.span,
                    format!("app `{name}` has SAML policies but its SAML plugin is off"),
                )
                .with_help(format!(
                    "set isSamlPluginEnabled (and isEnabled) to true in {}",
                    display_path(&p.path)
                ))
                .with_severity(Severity::Warning),
            );
        }
    }

    for ty in [
        MetadataType::NotificationSettings,
        MetadataType::PushSettings,
    ] {
        if let Some(f) = app.one(ty)
            && oauth.is_none()
        {
            out.push(
                Diagnostic::new(
                    Code::PluginWithoutOauth,
                    &f.path,
                    f.root.span,
                    format!(
                        "{} needs the OAuth plugin, and app `{name}` has no OAuth settings",
                        ty.name()
                    ),
                )
                .with_help("add the app's OAuth settings (.ecaOauth)"),
            );
        }
    }
}

fn packaging(project: &Project, components: &[Checked], out: &mut Vec<Diagnostic>) {
    let Some(sfdx) = &project.sfdx else {
        return;
    };
    for c in components {
        let ty = c.component.ty();
        let Some(dir) = c.package_dir.and_then(|i| sfdx.package_directories.get(i)) else {
            continue;
        };
        let Some(package) = &dir.package else {
            continue;
        };
        if ty == MetadataType::ExternalClientApplication {
            local_app_in_package(c, &dir.path, package, out);
            continue;
        }
        if ty.is_packageable() {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::NotPackageable,
                &c.path,
                c.root.span,
                format!(
                    "{} cannot go into a package, and `{}` builds the package `{package}`",
                    ty.name(),
                    dir.path
                ),
            )
            .with_help(format!(
                "add `**/*.{}-meta.xml` to .forceignore, or move the file to a package directory without a package",
                ty.suffix()
            )),
        );
    }
}

/// Only Packaged apps go into a 2GP package (`spec/metadata.md` §2.1, §6.1); an app without a
/// `distributionState` is Local. A value that is no state at all is the schema check's to
/// report.
fn local_app_in_package(header: &Checked, dir: &str, package: &str, out: &mut Vec<Diagnostic>) {
    let name = header.component.full_name();
    let (span, state) = match header.root.child("distributionState") {
        None => (header.root.span, "Local (it has no distributionState)"),
        Some(e) => match e.text.trimmed() {
            "Packaged" => return,
            v if schema::DIST_STATE.find(v).is_some() => (e.text.span, v),
            _ => return,
        },
    };
    out.push(
        Diagnostic::new(
            Code::LocalAppInPackage,
            &header.path,
            span,
            format!(
                "app `{name}` is {state}, and `{dir}` builds the package `{package}`; only Packaged apps go into a 2GP package"
            ),
        )
        .with_help(
            "set <distributionState>Packaged</distributionState>, or move the app to a package directory without a package (Local apps deploy from there)",
        ),
    );
}
