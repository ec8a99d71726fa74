//! A team's own policy: classes it trusts beyond the generated allowlist (`--allow NAME`, a
//! policy file). What it trusts is reported as "allowed by policy", never silently passed, and
//! nothing that can run code can be trusted this way (docs/scanning.md, "A team's policy").

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::pickle::{Callable, Risk, policy};

/// How callables are judged: the generated allowlist, plus the names a team trusts.
/// `Policy::default()` trusts nothing more (what `scan_path`/`scan_file` use).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    allowed: BTreeSet<String>,
}

/// A name a team asked to trust that no policy may allow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot allow '{name}': it {reason}")]
pub struct RefusedName {
    /// The name as it was given.
    pub name: String,
    /// Why it cannot be allowed, worded to follow "it": `is not a dotted MODULE.NAME`,
    /// `can run code (...)`.
    pub reason: String,
}

/// The policy file: `allow = ["mycompany.models.Net", ...]`; any other key is refused, so a
/// misspelt key cannot silently trust nothing (or something else).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    allow: Vec<String>,
}

impl Policy {
    /// Trusts `name` (`module.Name`, as the finding shows it), unless it can run code.
    pub fn allow(&mut self, name: &str) -> Result<(), RefusedName> {
        if let Some(reason) = policy::refuse_allow(name) {
            return Err(RefusedName {
                name: name.to_string(),
                reason,
            });
        }
        self.allowed.insert(name.to_string());
        Ok(())
    }

    /// Adds the names of a TOML policy file; errors name the file.
    pub fn add_file(&mut self, path: &Path) -> crate::Result<()> {
        let text = std::fs::read_to_string(path).map_err(|e| crate::Error::io("read", path, e))?;
        let file: PolicyFile = toml::from_str(&text)
            .map_err(|e| crate::Error::invalid_because(path, "not a scan policy", e))?;
        for name in &file.allow {
            self.allow(name)
                .map_err(|refused| crate::Error::invalid(path, refused.to_string()))?;
        }
        Ok(())
    }

    /// The names this policy trusts beyond the allowlist.
    pub fn allowed(&self) -> impl Iterator<Item = &str> {
        self.allowed.iter().map(String::as_str)
    }

    /// The risk of a pickle naming `callable`.
    pub fn risk(&self, callable: &Callable) -> Risk {
        policy::risk_with(callable, &self.allowed)
    }

    /// The risk of a pickle calling `callable` while it loads.
    pub fn risk_call(&self, callable: &Callable) -> Risk {
        policy::risk_call_with(callable, &self.allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn a_policy_file_lists_trusted_classes() {
        let file = write("allow = [\"mycompany.models.Net\", \"mycompany.layers.Block\"]\n");
        let mut policy = Policy::default();
        policy.add_file(file.path()).unwrap();
        assert_eq!(
            policy.allowed().collect::<Vec<_>>(),
            ["mycompany.layers.Block", "mycompany.models.Net"]
        );
        let net = Callable {
            module: "mycompany.models".into(),
            name: "Net".into(),
        };
        assert_eq!(policy.risk(&net), Risk::Allowed);
    }

    #[test]
    fn unknown_keys_and_dangerous_names_are_refused_naming_the_file() {
        for text in [
            "allows = [\"mycompany.models.Net\"]",
            "allow = [\"os.system\"]",
            "allow = [\"pathlib.os.system\"]",
            "allow = \"mycompany.models.Net\"",
            "allow = [",
        ] {
            let file = write(text);
            let error = Policy::default().add_file(file.path()).unwrap_err();
            let shown = error.to_string();
            assert!(
                shown.contains(&file.path().display().to_string()),
                "{text}: {shown}"
            );
        }
        let error = Policy::default().allow("builtins.eval").unwrap_err();
        assert!(error.to_string().contains("can run code"), "{error}");
    }

    #[test]
    fn a_policy_never_lowers_a_dangerous_name() {
        let mut policy = Policy::default();
        assert!(policy.allow("os.system").is_err());
        let system = Callable {
            module: "os".into(),
            name: "system".into(),
        };
        assert_eq!(policy.risk(&system), Risk::Dangerous);
    }
}
