//! Deletions from `destructiveChanges.xml`, `destructiveChangesPre.xml` (both before the
//! package is deployed) and `destructiveChangesPost.xml` (after it).
//!
//! Deleting a header deletes the whole app: its satellites, and its OAuth consumers (whose
//! tokens and approvals the same transaction revokes and deletes, `ChangeSet::deleted_apps`;
//! [`crate::DeployOutcome::deleted_apps`] and `deleted_consumers` tell the caller which caches
//! to drop). Deleting the global OAuth settings deletes the app's consumers and
//! unlinks its OAuth settings. Any other satellite goes alone. A component that does not exist
//! is a warning, as on Salesforce ("No … named … found"), so a destructive deploy of something
//! already gone passes with `ignoreWarnings` (what sfdx-hardis does, `spec/metadata.md` §5.4).

use eca_metadata::MetadataType;
use eca_metadata::model::Component;

use crate::DeployError;
use crate::plan::{Planner, Problem, stops};
use crate::state::{fold, key};

impl Planner<'_> {
    /// Runs deletion `i`, which comes from a manifest of the phase being run.
    pub(crate) async fn delete(&mut self, i: usize, post: bool) -> Result<(), DeployError> {
        let Some(ty) = self.deletions[i].ty else {
            return Ok(());
        };
        let name = self.deletions[i].full_name.clone();
        let kind = self.deletions[i].kind;
        let k = key(ty, &name);
        let mut problems = Vec::new();
        if ty == MetadataType::OrgSettings {
            problems.push(Problem::error(
                "The ExternalClientApp settings cannot be deleted; deploy them with new values instead",
            ));
        } else if self.state.current(&k).is_none() {
            problems.push(Problem::warning(format!(
                "No {} named: {name} found",
                ty.name()
            )));
        } else if post {
            let deployed_here = self.items.iter().any(|item| {
                !item.failed && item.before.is_some() && item.key().as_ref() == Some(&k)
            });
            if deployed_here {
                problems.push(Problem::error(format!(
                    "{} {name} is deployed by this package and deleted by {}",
                    ty.name(),
                    kind.file_name()
                )));
            } else if ty == MetadataType::ExternalClientApplication
                && self.deploys_app(&fold(&name))
            {
                problems.push(Problem::error(format!(
                    "ExternalClientApplication {name} cannot be deleted by {} while this package deploys components of it: delete it in destructiveChangesPre.xml, or deploy them separately",
                    kind.file_name()
                )));
            }
        }
        let failed = stops(&problems, &self.options);
        let d = &mut self.deletions[i];
        d.problems.extend(problems);
        d.failed = failed;
        if failed {
            return Ok(());
        }
        let Some(current) = self.state.current(&k).cloned() else {
            return Ok(());
        };
        match ty {
            MetadataType::ExternalClientApplication => {
                for satellite in self.state.app_keys(&name) {
                    self.state.set(satellite, None);
                }
                self.state.delete_consumers(&name);
                self.deleted_apps
                    .insert(fold(&name), (current.full_name().to_owned(), kind));
            }
            MetadataType::GlobalOauthSettings => {
                self.state.set(k, None);
                let app = current.app().unwrap_or_default().to_owned();
                let gone = self.state.delete_consumers(&app);
                self.unlink(&app, &gone);
            }
            _ => {
                self.state.set(k, None);
            }
        }
        Ok(())
    }

    /// Removes an `oauthLink` that names a deleted consumer.
    fn unlink(&mut self, app: &str, gone: &[eca_store::ConsumerId]) {
        let Some((k, Component::OauthSettings(o))) =
            self.state.of_app(app, MetadataType::OauthSettings)
        else {
            return;
        };
        let names_gone = o
            .oauth_link
            .as_deref()
            .and_then(|l| l.split_once(':'))
            .is_some_and(|(_, consumer)| {
                gone.iter()
                    .any(|id| id.as_15() == consumer || id.as_str() == consumer)
            });
        if names_gone {
            let (k, mut o) = (k.clone(), o.clone());
            o.oauth_link = None;
            self.state.set(k, Some(Component::OauthSettings(o)));
        }
    }
}
