//! `DeployOptions` of the Metadata API, as the SOAP `deploy` call and the REST
//! `deployRequest` (`entity_content` → `deployOptions`) send them.

use serde::{Deserialize, Serialize};

/// How a deploy runs. Options the Metadata API has for other metadata (tests, `runTests`,
/// `testLevel`, `performRetrieve`, `autoUpdatePackage`) are accepted by the parser and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeployOptions {
    /// Validate only: every check runs, nothing is written.
    pub check_only: bool,
    /// All or nothing (the default). When `false`, the components that pass are deployed
    /// and the deploy ends `SucceededPartial`.
    pub rollback_on_error: bool,
    /// Let warning-level problems pass. Without it a warning fails its component, as the
    /// Metadata API documents for `ignoreWarnings`; this is also what makes the rotation flags
    /// (`shouldRotateConsumerKey/Secret`) require it (`spec/metadata.md` §2.3, §5.1 item 7).
    pub ignore_warnings: bool,
    /// The zip holds one package (`package.xml` at the top or under one folder). Recorded;
    /// both layouts are read either way.
    pub single_package: bool,
    /// Deleted components skip the recycle bin. Recorded; deletes here are always final.
    pub purge_on_delete: bool,
    /// Members of `package.xml` without a file are skipped instead of failing.
    pub allow_missing_files: bool,
}

impl Default for DeployOptions {
    fn default() -> Self {
        Self {
            check_only: false,
            rollback_on_error: true,
            ignore_warnings: false,
            single_package: false,
            purge_on_delete: false,
            allow_missing_files: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_salesforce_json_with_defaults() {
        for (json, expected) in [
            ("{}", DeployOptions::default()),
            (
                r#"{"checkOnly":true,"rollbackOnError":false,"testLevel":"NoTestRun","runTests":[]}"#,
                DeployOptions {
                    check_only: true,
                    rollback_on_error: false,
                    ..DeployOptions::default()
                },
            ),
            (
                r#"{"ignoreWarnings":true,"singlePackage":true,"purgeOnDelete":true,"allowMissingFiles":true}"#,
                DeployOptions {
                    ignore_warnings: true,
                    single_package: true,
                    purge_on_delete: true,
                    allow_missing_files: true,
                    ..DeployOptions::default()
                },
            ),
        ] {
            let parsed: DeployOptions = serde_json::from_str(json).unwrap();
            assert_eq!(parsed, expected, "{json}");
        }
        assert!(DeployOptions::default().rollback_on_error);
    }
}
