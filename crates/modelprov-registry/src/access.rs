//! Who may do what: the one rule every endpoint asks. A token belongs to one namespace with one
//! role, or is the server's admin token; a namespace's content is readable without a token only
//! when the namespace says so.

use crate::error::RegistryError;
use crate::token::Role;

/// Something a request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read a namespace's models, records, statements and settings.
    Read,
    /// Publish a signed statement (its signature is checked against the namespace's policy).
    Publish,
    /// Yank a version (with a reason; nothing is deleted).
    Yank,
    /// Create and revoke the namespace's tokens, and read its audit log.
    ManageTokens,
    /// Create a namespace (the server's admin only).
    CreateNamespace,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 5] = [
        Action::Read,
        Action::Publish,
        Action::Yank,
        Action::ManageTokens,
        Action::CreateNamespace,
    ];

    /// The least role a namespace's token needs; `None` for what only the server's admin does.
    pub fn least_role(self) -> Option<Role> {
        match self {
            Action::Read => Some(Role::Reader),
            Action::Publish => Some(Role::Publisher),
            Action::Yank | Action::ManageTokens => Some(Role::Admin),
            Action::CreateNamespace => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Publish => "publish to",
            Action::Yank => "yank versions in",
            Action::ManageTokens => "manage the tokens of",
            Action::CreateNamespace => "create",
        }
    }
}

/// The authenticated caller: a valid, unrevoked token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The token's id (what the audit log records; never the secret).
    pub token_id: i64,
    /// The namespace the token belongs to; `None` for the server's admin token.
    pub namespace: Option<String>,
    /// Its role there (always `Admin` for the server's admin token).
    pub role: Role,
}

impl Identity {
    /// Whether this is the server's admin token.
    pub fn is_server_admin(&self) -> bool {
        self.namespace.is_none()
    }
}

/// Whether `who` (`None`: no token) may do `action` in `namespace`, whose content is readable
/// without a token when `anonymous_read`.
///
/// # Errors
/// [`RegistryError::Unauthenticated`] when a token is needed and none was given;
/// [`RegistryError::Forbidden`] when the token does not allow it.
pub fn authorize(
    who: Option<&Identity>,
    action: Action,
    namespace: &str,
    anonymous_read: bool,
) -> Result<(), RegistryError> {
    let Some(who) = who else {
        if action == Action::Read && anonymous_read {
            return Ok(());
        }
        return Err(RegistryError::Unauthenticated(format!(
            "a token is needed to {} namespace '{namespace}'",
            action.describe()
        )));
    };
    if who.is_server_admin() {
        return Ok(());
    }
    let denied = || {
        RegistryError::Forbidden(format!(
            "token {} may not {} namespace '{namespace}'",
            who.token_id,
            action.describe()
        ))
    };
    let Some(least) = action.least_role() else {
        return Err(denied());
    };
    if who.namespace.as_deref() != Some(namespace) {
        // Anonymous reading is open to everyone, whatever namespace their token is for.
        if action == Action::Read && anonymous_read {
            return Ok(());
        }
        return Err(denied());
    }
    if who.role < least {
        return Err(denied());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(namespace: Option<&str>, role: Role) -> Identity {
        Identity {
            token_id: 7,
            namespace: namespace.map(str::to_string),
            role,
        }
    }

    /// Every action by every kind of caller in a private and a public namespace, against a
    /// table written out by hand.
    #[test]
    fn the_authorisation_matrix() {
        use Action::*;
        let callers: [(&str, Option<Identity>); 8] = [
            ("no token", None),
            ("reader of a", Some(token(Some("a"), Role::Reader))),
            ("publisher of a", Some(token(Some("a"), Role::Publisher))),
            ("admin of a", Some(token(Some("a"), Role::Admin))),
            ("reader of b", Some(token(Some("b"), Role::Reader))),
            ("publisher of b", Some(token(Some("b"), Role::Publisher))),
            ("admin of b", Some(token(Some("b"), Role::Admin))),
            ("server admin", Some(token(None, Role::Admin))),
        ];
        // (caller, action, private namespace 'a', public namespace 'a'): "ok", "401" or "403".
        let expected: &[(&str, Action, &str, &str)] = &[
            ("no token", Read, "401", "ok"),
            ("no token", Publish, "401", "401"),
            ("no token", Yank, "401", "401"),
            ("no token", ManageTokens, "401", "401"),
            ("no token", CreateNamespace, "401", "401"),
            ("reader of a", Read, "ok", "ok"),
            ("reader of a", Publish, "403", "403"),
            ("reader of a", Yank, "403", "403"),
            ("reader of a", ManageTokens, "403", "403"),
            ("reader of a", CreateNamespace, "403", "403"),
            ("publisher of a", Read, "ok", "ok"),
            ("publisher of a", Publish, "ok", "ok"),
            ("publisher of a", Yank, "403", "403"),
            ("publisher of a", ManageTokens, "403", "403"),
            ("publisher of a", CreateNamespace, "403", "403"),
            ("admin of a", Read, "ok", "ok"),
            ("admin of a", Publish, "ok", "ok"),
            ("admin of a", Yank, "ok", "ok"),
            ("admin of a", ManageTokens, "ok", "ok"),
            ("admin of a", CreateNamespace, "403", "403"),
            ("reader of b", Read, "403", "ok"),
            ("publisher of b", Read, "403", "ok"),
            ("admin of b", Read, "403", "ok"),
            ("server admin", Read, "ok", "ok"),
            ("server admin", Publish, "ok", "ok"),
            ("server admin", Yank, "ok", "ok"),
            ("server admin", ManageTokens, "ok", "ok"),
            ("server admin", CreateNamespace, "ok", "ok"),
        ];
        let outcome = |result: Result<(), RegistryError>| match result {
            Ok(()) => "ok",
            Err(RegistryError::Unauthenticated(_)) => "401",
            Err(RegistryError::Forbidden(_)) => "403",
            Err(other) => panic!("unexpected {other}"),
        };
        let mut checked = 0;
        for (name, caller) in &callers {
            for action in Action::ALL {
                let want = expected
                    .iter()
                    .find(|(n, a, _, _)| n == name && *a == action)
                    .map(|(_, _, private, public)| (*private, *public))
                    // A token of b may do nothing in a but what anyone may.
                    .unwrap_or_else(|| {
                        assert!(name.ends_with("of b"), "{name} {action:?} missing");
                        ("403", "403")
                    });
                let got = (
                    outcome(authorize(caller.as_ref(), action, "a", false)),
                    outcome(authorize(caller.as_ref(), action, "a", true)),
                );
                assert_eq!(got, want, "{name} {action:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 40);
    }

    #[test]
    fn a_refusal_names_the_token_and_the_namespace() {
        let error = authorize(
            Some(&token(Some("a"), Role::Reader)),
            Action::Publish,
            "a",
            false,
        )
        .unwrap_err();
        assert_eq!(error.code(), "forbidden");
        assert_eq!(
            error.to_string(),
            "token 7 may not publish to namespace 'a'"
        );
        let error = authorize(None, Action::Read, "a", false).unwrap_err();
        assert_eq!(error.http_status(), 401);
    }
}
