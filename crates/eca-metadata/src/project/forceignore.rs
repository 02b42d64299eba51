//! `.forceignore`: gitignore-syntax patterns, relative to the project root, naming files that
//! the Salesforce CLI (and so every `eca` command) leaves out of deploys and validation, on top
//! of the files it always leaves out ([`DEFAULT_PATTERNS`]).

use std::path::Path;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::diagnostic::{Code, Diagnostic};
use crate::xml::Span;

pub const FILE_NAME: &str = ".forceignore";

/// What `eca project init` writes: the Salesforce CLI's usual entries, plus the ECA types that
/// must never be packaged (`spec/metadata.md` §6.2). They are commented out because Local apps
/// deploy them; uncomment them in projects that build 2GP packages.
pub const DEFAULT_CONTENTS: &str = "\
# Files the Salesforce CLI and eca leave out of deploys, in .gitignore syntax.
package.xml

# LWC configuration files
**/jsconfig.json
**/.eslintrc.json

# LWC Jest
**/__tests__/**

# External Client App components that a 2GP package must not contain. Keep these lines
# when a package directory builds a managed package; Local apps deploy them from source.
# **/*.ecaGlblOauth-meta.xml
# **/*.ecaOauthPlcy-meta.xml
# **/*.ecaOauthSecurity-meta.xml
";

/// What the Salesforce CLI leaves out of every source project whatever `.forceignore` says
/// (source-deploy-retrieve's `ForceIgnore.DEFAULT_IGNORE`): dot-files and dot-folders
/// (`.DS_Store`, AppleDouble `._Name` files, editor swap files), `.dup` files, and the package
/// descriptors. The CLI reads them after the file's patterns, so a `!` pattern cannot bring one
/// back; here they are checked first, to the same effect.
pub const DEFAULT_PATTERNS: &[&str] = &[
    "**/.*",
    "**/*.dup",
    "**/package2-descriptor.json",
    "**/package2-manifest.json",
];

/// Compiled ignore patterns: the defaults and `.forceignore`'s.
#[derive(Debug)]
pub struct ForceIgnore {
    defaults: Option<Gitignore>,
    matcher: Option<Gitignore>,
}

impl ForceIgnore {
    /// Nothing ignored, not even the defaults (a Metadata API folder is read whole).
    pub fn empty() -> Self {
        Self {
            defaults: None,
            matcher: None,
        }
    }

    /// The defaults and `<root>/.forceignore` when present; bad patterns become warnings.
    pub fn load(root: &Path, diagnostics: &mut Vec<Diagnostic>) -> Self {
        let path = root.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        Self::parse(root, &text, diagnostics)
    }

    /// Compiles the defaults and the patterns of a `.forceignore` text.
    pub fn parse(root: &Path, text: &str, diagnostics: &mut Vec<Diagnostic>) -> Self {
        let mut defaults = GitignoreBuilder::new(root);
        for pattern in DEFAULT_PATTERNS {
            // The patterns are constants that compile; a failure would only lose a default.
            let _ = defaults.add_line(None, pattern);
        }
        let mut builder = GitignoreBuilder::new(root);
        for (n, line) in text.lines().enumerate() {
            if let Err(e) = builder.add_line(None, line) {
                let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
                diagnostics.push(
                    Diagnostic::new(
                        Code::ForceIgnore,
                        FILE_NAME,
                        Span::new(line_no, 1, u32::try_from(line.chars().count()).unwrap_or(1)),
                        format!("pattern is ignored: {e}"),
                    )
                    .with_help("patterns use .gitignore syntax, relative to the project root"),
                );
            }
        }
        Self {
            defaults: defaults.build().ok(),
            matcher: builder.build().ok(),
        }
    }

    /// Whether the path (relative to the root) is ignored, directly or through a parent.
    pub fn is_ignored(&self, rel: &Path, is_dir: bool) -> bool {
        [&self.defaults, &self.matcher].into_iter().any(|m| {
            m.as_ref()
                .is_some_and(|m| m.matched_path_or_any_parents(rel, is_dir).is_ignore())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_gitignore() {
        let mut d = Vec::new();
        let f = ForceIgnore::parse(
            Path::new("/p"),
            "**/*.ecaGlblOauth-meta.xml\nforce-app/main/default/extlClntAppOauthPolicies/\n!keep.ecaGlblOauth-meta.xml\n",
            &mut d,
        );
        assert!(d.is_empty());
        assert!(f.is_ignored(Path::new("force-app/x/A.ecaGlblOauth-meta.xml"), false));
        assert!(!f.is_ignored(Path::new("force-app/x/keep.ecaGlblOauth-meta.xml"), false));
        assert!(f.is_ignored(
            Path::new("force-app/main/default/extlClntAppOauthPolicies/A.ecaOauthPlcy-meta.xml"),
            false
        ));
        assert!(!f.is_ignored(Path::new("force-app/x/A.eca-meta.xml"), false));
    }

    /// Review found that `.DS_Store`, AppleDouble files (`._App.eca-meta.xml`) and editor swap
    /// files failed validation, though the Salesforce CLI never deploys them.
    #[test]
    fn dot_files_and_dups_are_ignored_by_default() {
        let dir = "force-app/main/default/externalClientApps";
        let mut d = Vec::new();
        let none = ForceIgnore::load(Path::new("/no/such/project"), &mut d);
        let negated = ForceIgnore::parse(Path::new("/p"), "!.DS_Store\n!**/*.dup\n", &mut d);
        assert!(d.is_empty());
        for f in [&none, &negated] {
            for ignored in [
                ".DS_Store",
                "force-app/.DS_Store",
                "force-app/main/default/externalClientApps/._My_App.eca-meta.xml",
                "force-app/main/default/externalClientApps/.My_App.eca-meta.xml.swp",
                "force-app/main/default/externalClientApps/My_App.eca-meta.xml.dup",
                "force-app/.hidden/externalClientApps/My_App.eca-meta.xml",
                "force-app/package2-descriptor.json",
                "package2-manifest.json",
            ] {
                assert!(f.is_ignored(Path::new(ignored), false), "{ignored}");
            }
            assert!(f.is_ignored(Path::new("force-app/.hidden"), true));
            assert!(!f.is_ignored(Path::new(&format!("{dir}/My_App.eca-meta.xml")), false));
        }
        // A Metadata API folder has no .forceignore and no defaults.
        assert!(!ForceIgnore::empty().is_ignored(Path::new(".DS_Store"), false));
    }
}
