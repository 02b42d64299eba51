//! `.forceignore`: gitignore-syntax patterns, relative to the project root, naming files that
//! the Salesforce CLI (and so every `eca` command) leaves out of deploys and validation.

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

/// Compiled `.forceignore` patterns.
#[derive(Debug)]
pub struct ForceIgnore {
    matcher: Option<Gitignore>,
}

impl ForceIgnore {
    /// Nothing ignored.
    pub fn empty() -> Self {
        Self { matcher: None }
    }

    /// Reads `<root>/.forceignore` when present; bad patterns become warnings.
    pub fn load(root: &Path, diagnostics: &mut Vec<Diagnostic>) -> Self {
        let path = root.join(FILE_NAME);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Self::empty();
        };
        Self::parse(root, &text, diagnostics)
    }

    /// Compiles patterns from text.
    pub fn parse(root: &Path, text: &str, diagnostics: &mut Vec<Diagnostic>) -> Self {
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
        match builder.build() {
            Ok(g) => Self { matcher: Some(g) },
            Err(_) => Self::empty(),
        }
    }

    /// Whether the path (relative to the root) is ignored, directly or through a parent.
    pub fn is_ignored(&self, rel: &Path, is_dir: bool) -> bool {
        self.matcher
            .as_ref()
            .is_some_and(|m| m.matched_path_or_any_parents(rel, is_dir).is_ignore())
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
}
