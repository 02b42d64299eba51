//! Planning a deploy: which components of the package are deployed, which fail and why, and
//! what the org holds afterwards (spec `metadata.md` §5). Nothing is written here; the
//! outcome ([`crate::outcome`]) turns the plan into one change set.
//!
//! The order is the Metadata API's: `destructiveChangesPre.xml` and `destructiveChanges.xml`
//! first, then the package app by app (the header, then its OAuth settings, then its global
//! OAuth settings, then the rest, so every component sees the ones it depends on), then the
//! platform's generated values, then `destructiveChangesPost.xml`.

use std::collections::{BTreeMap, HashMap};

use eca_metadata::diagnostic::{Code, Diagnostic, Severity, display_path};
use eca_metadata::model::Component;
use eca_metadata::project::manifest::{ManifestKind, PACKAGE_XML};
use eca_metadata::{ApiVersion, MetadataType, catalog};

use crate::checks::Lookups;
use crate::package::{Package, runs_after};
use crate::result::ProblemType;
use crate::state::{Key, OrgState, fold, key};
use crate::{DeployContext, DeployError, DeployOptions};

/// Validator findings the org can settle: a satellite whose header is already deployed, global
/// settings whose OAuth settings are, a run-as user already set in deployed policies. The deploy
/// checks these against the zip *and* the org instead; see [`crate::checks`]. The secret
/// warning is replaced by the deploy's own (accepted on the first deploy only).
const SETTLED_BY_THE_ORG: &[Code] = &[
    Code::UnknownHeader,
    Code::GlobalWithoutOauth,
    Code::PluginWithoutOauth,
    Code::ClientCredentialsUser,
    Code::SecretInSource,
    Code::ManifestMember,
];

/// One problem, in a component or a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub kind: ProblemType,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Problem {
    /// The problem at `span` of its file (a span of line 0 is no place).
    pub fn at(mut self, span: eca_metadata::xml::Span) -> Self {
        if span.line > 0 {
            self.line = Some(span.line);
            self.column = Some(span.column);
        }
        self
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self {
            kind: ProblemType::Error,
            message: message.into(),
            line: None,
            column: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Self {
            kind: ProblemType::Warning,
            ..Self::error(message)
        }
    }

    fn from_diagnostic(d: &Diagnostic) -> Self {
        Self {
            kind: match d.severity {
                Severity::Error => ProblemType::Error,
                Severity::Warning => ProblemType::Warning,
            },
            message: format!("{} [{}]", d.message, d.code),
            line: Some(d.line),
            column: Some(d.column),
        }
    }
}

/// Whether problems stop a component: any error, or a warning without `ignoreWarnings`.
pub(crate) fn stops(problems: &[Problem], options: &DeployOptions) -> bool {
    problems.iter().any(|p| match p.kind {
        ProblemType::Error => true,
        ProblemType::Warning => !options.ignore_warnings,
    })
}

/// One component the package deploys (or names without a file).
#[derive(Debug)]
pub(crate) struct Item {
    pub type_name: String,
    pub ty: Option<MetadataType>,
    pub full_name: String,
    pub file: String,
    /// `None` when the file does not parse, or there is no file.
    pub component: Option<Component>,
    pub problems: Vec<Problem>,
    pub failed: bool,
    /// What the org held under the item's key before it was applied (to undo it).
    pub before: Option<Option<Component>>,
}

impl Item {
    fn phantom(type_name: &str, full_name: &str, file: &str, problem: Problem) -> Self {
        Self {
            type_name: type_name.to_owned(),
            ty: None,
            full_name: full_name.to_owned(),
            file: file.to_owned(),
            component: None,
            problems: vec![problem],
            failed: true,
            before: None,
        }
    }

    pub fn key(&self) -> Option<Key> {
        self.ty.map(|ty| key(ty, &self.full_name))
    }

    /// The app of the item, lower-cased: its own name for a header.
    pub fn app(&self) -> Option<String> {
        self.component
            .as_ref()
            .and_then(crate::state::app_of)
            .map(fold)
    }
}

/// One member of a destructive manifest.
#[derive(Debug)]
pub(crate) struct Deletion {
    pub kind: ManifestKind,
    pub type_name: String,
    pub ty: Option<MetadataType>,
    pub full_name: String,
    pub problems: Vec<Problem>,
    pub failed: bool,
}

/// A deploy being planned.
pub(crate) struct Planner<'c> {
    pub ctx: &'c DeployContext<'c>,
    pub options: DeployOptions,
    pub version: ApiVersion,
    pub state: OrgState,
    pub items: Vec<Item>,
    pub deletions: Vec<Deletion>,
    pub lookups: Lookups,
    /// Apps whose header a destructive manifest deletes, lower-cased, with the manifest.
    pub deleted_apps: BTreeMap<String, (String, ManifestKind)>,
    /// Consumer keys this deploy gives out, so two apps cannot get the same one.
    pub planned_keys: Vec<String>,
}

impl std::fmt::Debug for Planner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planner")
            .field("items", &self.items)
            .field("deletions", &self.deletions)
            .finish_non_exhaustive()
    }
}

/// Plans a deploy of a readable package.
pub(crate) async fn plan<'c>(
    ctx: &'c DeployContext<'c>,
    package: &Package,
    options: DeployOptions,
) -> Result<Planner<'c>, DeployError> {
    let mut planner = Planner {
        ctx,
        options,
        version: package.project.api_version,
        state: OrgState::default(),
        items: collect_items(package, &options),
        deletions: collect_deletions(package),
        lookups: Lookups::default(),
        deleted_apps: BTreeMap::new(),
        planned_keys: Vec::new(),
    };
    planner.load().await?;
    planner.run_deletions(false).await?;
    planner.deploy_items().await?;
    planner.run_deletions(true).await?;
    planner.check_push_links().await?;
    Ok(planner)
}

/// The package's components, each with its validator findings; plus a failed entry for every
/// member `package.xml` names without a file, every type it names that is not ours, and every
/// file the validator could not place.
fn collect_items(package: &Package, options: &DeployOptions) -> Vec<Item> {
    let project = &package.project;
    let manifest = &package.manifest;
    let mut findings: HashMap<&std::path::Path, Vec<&Diagnostic>> = HashMap::new();
    for d in &package.report.diagnostics {
        if !SETTLED_BY_THE_ORG.contains(&d.code) && d.code != Code::Manifest {
            findings.entry(d.file.as_path()).or_default().push(d);
        }
    }
    let models: HashMap<&std::path::Path, &Component> = package
        .report
        .components
        .iter()
        .map(|c| (c.path.as_path(), &c.component))
        .collect();

    let mut items = Vec::new();
    for f in &project.files {
        let file = display_path(&f.path);
        let problems: Vec<Problem> = findings
            .remove(f.path.as_path())
            .unwrap_or_default()
            .into_iter()
            .map(Problem::from_diagnostic)
            .collect();
        if !manifest.includes(f.ty, &f.full_name) {
            // Not deployed: the Metadata API deploys what its manifest names. A warning, so
            // it stops the deploy unless warnings are ignored.
            let mut unlisted = Item::phantom(
                f.ty.name(),
                &f.full_name,
                &file,
                Problem::warning(format!(
                    "{} `{}` is not listed in package.xml and was not deployed",
                    f.ty.name(),
                    f.full_name
                )),
            );
            unlisted.failed = !options.ignore_warnings;
            items.push(unlisted);
            continue;
        }
        // A file that does not parse has no model, and its problems say why.
        let component = models.get(f.path.as_path()).map(|c| (*c).clone());
        items.push(Item {
            type_name: f.ty.name().to_owned(),
            ty: Some(f.ty),
            full_name: f.full_name.clone(),
            file,
            failed: component.is_none(),
            component,
            problems,
            before: None,
        });
    }
    // Files the validator could not place (unknown folders or suffixes).
    let mut rest: Vec<(&std::path::Path, Vec<&Diagnostic>)> = findings
        .into_iter()
        .filter(|(path, _)| !is_manifest(path))
        .collect();
    rest.sort_by_key(|(path, _)| *path);
    for (path, diagnostics) in rest {
        let file = display_path(path);
        for d in diagnostics {
            items.push(Item::phantom("", &file, &file, Problem::from_diagnostic(d)));
        }
    }

    for t in &manifest.types {
        let Some(ty) = t.metadata_type() else {
            items.push(Item::phantom(
                &t.name,
                &t.name,
                PACKAGE_XML,
                Problem::error(format!(
                    "Unknown type name '{}' specified in package.xml: OpenECA deploys External Client App types only",
                    t.name
                ))
                .at(t.span),
            ));
            continue;
        };
        for member in t.members.iter().filter(|m| *m != "*") {
            if ty == MetadataType::OrgSettings && member != catalog::ORG_SETTINGS_NAME {
                items.push(Item::phantom(
                    &t.name,
                    member,
                    PACKAGE_XML,
                    Problem::error(format!(
                        "Settings `{member}` cannot be deployed: OpenECA deploys only the {} settings",
                        catalog::ORG_SETTINGS_NAME
                    )),
                ));
                continue;
            }
            let present = project
                .files
                .iter()
                .any(|f| f.ty == ty && &f.full_name == member);
            if !present && !options.allow_missing_files {
                items.push(Item::phantom(
                    ty.name(),
                    member,
                    PACKAGE_XML,
                    Problem::error(format!(
                        "An object '{member}' of type {} was named in package.xml, but was not found in zipped directory",
                        ty.name()
                    )),
                ));
            }
        }
    }
    items
}

fn is_manifest(path: &std::path::Path) -> bool {
    ManifestKind::from_path(path).is_some()
}

fn collect_deletions(package: &Package) -> Vec<Deletion> {
    let mut out = Vec::new();
    for (kind, manifest) in &package.destructive {
        for t in &manifest.types {
            let ty = t.metadata_type();
            for member in &t.members {
                let mut problems = Vec::new();
                if ty.is_none() {
                    problems.push(
                        Problem::error(format!(
                            "Unknown type name '{}' specified in {}",
                            t.name,
                            kind.file_name()
                        ))
                        .at(t.span),
                    );
                } else if member == "*" {
                    problems.push(
                        Problem::error(format!(
                            "{} cannot use the wildcard `*`: name each {} to delete",
                            kind.file_name(),
                            t.name
                        ))
                        .at(t.span),
                    );
                }
                out.push(Deletion {
                    kind: *kind,
                    type_name: ty.map_or_else(|| t.name.clone(), |ty| ty.name().to_owned()),
                    ty,
                    full_name: member.clone(),
                    failed: !problems.is_empty(),
                    problems,
                });
            }
        }
    }
    out
}

impl Planner<'_> {
    /// Reads the org's side of every app the package or the destructive manifests touch.
    async fn load(&mut self) -> Result<(), DeployError> {
        let (store, org) = (self.ctx.store, self.ctx.org);
        let mut apps: Vec<String> = Vec::new();
        for item in &self.items {
            match (&item.component, item.ty) {
                (Some(c), ty) if crate::state::app_of(c).is_some() => {
                    apps.extend(crate::state::app_of(c).map(str::to_owned));
                    // Names are unique in the org, not per app: a satellite's name may be
                    // another app's component, whose app this reads too (`check_satellite`).
                    if let Some(ty) = ty.filter(|t| *t != MetadataType::ExternalClientApplication) {
                        self.state
                            .load_component(store, org, ty, &item.full_name)
                            .await?;
                    }
                }
                (Some(_), Some(ty)) => {
                    self.state
                        .load_component(store, org, ty, &item.full_name)
                        .await?;
                }
                _ => {}
            }
        }
        apps.sort_by_key(|a| fold(a));
        apps.dedup_by_key(|a| fold(a));
        for app in &apps {
            self.state.load_app(store, org, app).await?;
        }
        for d in &self.deletions {
            if let Some(ty) = d.ty {
                if ty == MetadataType::ExternalClientApplication {
                    self.state.load_app(store, org, &d.full_name).await?;
                } else {
                    self.state
                        .load_component(store, org, ty, &d.full_name)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Deploys the package's components, app by app, then the org settings.
    async fn deploy_items(&mut self) -> Result<(), DeployError> {
        let mut by_app: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
        for (i, item) in self.items.iter().enumerate() {
            if item.component.is_some() && !item.failed {
                by_app.entry(item.app()).or_default().push(i);
            }
        }
        for (app, mut indices) in by_app {
            indices.sort_by_key(|&i| (self.items[i].ty, fold(&self.items[i].full_name)));
            for &i in &indices {
                self.deploy_item(i).await?;
            }
            if let Some(app) = app {
                self.finish_app(&app).await?;
            }
        }
        Ok(())
    }

    /// Checks one component against the org and, if nothing stops it, applies it.
    async fn deploy_item(&mut self, i: usize) -> Result<(), DeployError> {
        let found = self.org_checks(i).await?;
        let item = &mut self.items[i];
        item.problems.extend(found);
        if stops(&item.problems, &self.options) {
            item.failed = true;
            return Ok(());
        }
        let (Some(k), Some(mut component)) = (item.key(), item.component.clone()) else {
            item.failed = true;
            return Ok(());
        };
        // What the org holds keeps the elements newer than this deploy's version
        // (`eca_metadata::schema::carry_over`), as Salesforce leaves fields newer than a
        // deploy's API version alone.
        if eca_metadata::schema::has_newer_elements(k.0, self.version)
            && let Some(held) = self.state.current(&k)
            && let Some(merged) = eca_metadata::schema::carry_over(
                k.0,
                &held.to_xml(),
                &component.to_xml(),
                self.version,
            )
        {
            component = Component::from_element(k.0, component.full_name(), &merged);
        }
        if let Component::PushSettings(push) = &mut component
            && let Some(problem) = self.settle_push(push, &k).await?
        {
            let item = &mut self.items[i];
            item.problems.push(problem);
            item.failed = true;
            return Ok(());
        }
        let item = &mut self.items[i];
        item.before = Some(self.state.set(k, Some(component)));
        Ok(())
    }

    /// Takes back an item that a later check stopped.
    pub(crate) fn undo(&mut self, i: usize, problems: Vec<Problem>) {
        let item = &mut self.items[i];
        item.problems.extend(problems);
        item.failed = true;
        if let (Some(k), Some(before)) = (item.key(), item.before.take()) {
            self.state.set(k, before);
        }
    }

    /// The item of type `ty` of app `app` (lower-cased) that is deployed so far, if any.
    pub(crate) fn deployed_item(&self, app: &str, ty: MetadataType) -> Option<usize> {
        self.items.iter().position(|item| {
            item.ty == Some(ty)
                && !item.failed
                && item.before.is_some()
                && item.app().as_deref() == Some(app)
        })
    }

    /// Whether the package deploys (so far successfully) any component of the app.
    pub(crate) fn deploys_app(&self, app: &str) -> bool {
        self.items
            .iter()
            .any(|item| !item.failed && item.before.is_some() && item.app().as_deref() == Some(app))
    }

    /// Runs the deletions before (`post == false`) or after the package.
    async fn run_deletions(&mut self, post: bool) -> Result<(), DeployError> {
        for i in 0..self.deletions.len() {
            if runs_after(self.deletions[i].kind) == post && !self.deletions[i].failed {
                self.delete(i, post).await?;
            }
        }
        Ok(())
    }
}
