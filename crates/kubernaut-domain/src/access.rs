//! Authorization as pure rules: roles, the actions they allow, namespace and context patterns,
//! and a token's grants. Nothing here knows about HTTP or storage; the shared operations ask
//! [`Grants::allows`] before every action and [`Grants::visible_namespaces`] for every list.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ValidationError, shorten};

/// What a grant lets its token do. Roles are cumulative: each may what the one before may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads services, releases, deployments (with manifests and logs) and contexts.
    Viewer,
    /// Viewer, and creates releases.
    Releaser,
    /// Releaser, and creates, cancels and rolls back deployments.
    Deployer,
    /// Deployer, and deletes releases and deployments.
    Admin,
}

impl Role {
    /// Every role, least powerful first.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Releaser, Role::Deployer, Role::Admin];

    /// The role's name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Releaser => "releaser",
            Role::Deployer => "deployer",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == value)
            .ok_or_else(|| ValidationError::InvalidRole(shorten(value)))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a token may be allowed to do in a namespace (and, for deployments, a context).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read services, releases, deployments, contexts and live objects.
    Read,
    /// Create a release.
    CreateRelease,
    /// Create (or dry-run, or roll back) a deployment to a context.
    Deploy,
    /// Cancel a deployment in a context.
    Cancel,
    /// Delete (hide) a release.
    DeleteRelease,
    /// Delete (hide) a deployment of a context.
    DeleteDeployment,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 6] = [
        Action::Read,
        Action::CreateRelease,
        Action::Deploy,
        Action::Cancel,
        Action::DeleteRelease,
        Action::DeleteDeployment,
    ];

    /// The least role that may do it.
    pub fn least_role(self) -> Role {
        match self {
            Action::Read => Role::Viewer,
            Action::CreateRelease => Role::Releaser,
            Action::Deploy | Action::Cancel => Role::Deployer,
            Action::DeleteRelease | Action::DeleteDeployment => Role::Admin,
        }
    }

    /// Whether a grant's context pattern must match too: only actions on deployments. Reading
    /// is scoped by namespace alone, so that a list's visibility is one namespace filter.
    pub fn concerns_context(self) -> bool {
        matches!(
            self,
            Action::Deploy | Action::Cancel | Action::DeleteDeployment
        )
    }

    /// What the action is, as a refusal names it: `deploy`, `create releases`, ...
    fn describe(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::CreateRelease => "create releases",
            Action::Deploy => "deploy",
            Action::Cancel => "cancel deployments",
            Action::DeleteRelease => "delete releases",
            Action::DeleteDeployment => "delete deployments",
        }
    }
}

/// A name pattern of a grant: an exact name, `*` (anything), or a prefix ending in `*`
/// (`staging-*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// Matches every name.
    Any,
    /// Matches names starting with the prefix (which may be empty only as [`Pattern::Any`]).
    Prefix(String),
    /// Matches this name only.
    Exact(String),
}

/// The longest pattern accepted, in characters (a context name's limit).
const MAX_PATTERN_CHARS: usize = 253;

impl Pattern {
    /// Parses a namespace pattern: `*`, or a DNS-1123 label, or the start of one followed by
    /// `*`.
    pub fn namespace(value: &str) -> Result<Self, ValidationError> {
        let valid_char = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
        let pattern = Self::parse_with("namespace", value, |name| {
            !name.is_empty() && name.len() <= 63 && name.bytes().all(valid_char)
        })?;
        if let Pattern::Exact(name) = &pattern {
            crate::Namespace::parse(name).map_err(|_| ValidationError::InvalidPattern {
                field: "namespace",
                value: shorten(value),
            })?;
        }
        Ok(pattern)
    }

    /// Parses a context pattern: `*`, a context name, or the start of one followed by `*`.
    pub fn context(value: &str) -> Result<Self, ValidationError> {
        Self::parse_with("context", value, |name| {
            !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c.is_control())
        })
    }

    fn parse_with(
        field: &'static str,
        value: &str,
        valid_name: impl Fn(&str) -> bool,
    ) -> Result<Self, ValidationError> {
        let invalid = || ValidationError::InvalidPattern {
            field,
            value: shorten(value),
        };
        if value == "*" {
            return Ok(Pattern::Any);
        }
        if value.chars().count() > MAX_PATTERN_CHARS {
            return Err(invalid());
        }
        let (name, prefix) = match value.strip_suffix('*') {
            Some(prefix) => (prefix, true),
            None => (value, false),
        };
        if name.contains('*') || !valid_name(name) {
            return Err(invalid());
        }
        Ok(if prefix {
            Pattern::Prefix(name.to_owned())
        } else {
            Pattern::Exact(name.to_owned())
        })
    }

    /// Whether `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Prefix(prefix) => name.starts_with(prefix.as_str()),
            Pattern::Exact(exact) => name == exact,
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Any => f.write_str("*"),
            Pattern::Prefix(prefix) => write!(f, "{prefix}*"),
            Pattern::Exact(name) => f.write_str(name),
        }
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One grant of a token: a role in the namespaces and contexts its patterns match.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Grant {
    /// What it allows.
    pub role: Role,
    /// Where: the namespaces.
    pub namespace: Pattern,
    /// Where: the contexts (for actions on deployments).
    pub context: Pattern,
}

impl Grant {
    /// Validates a grant as a request spells it; `context` defaults to `*`.
    pub fn parse(
        role: &str,
        namespace: &str,
        context: Option<&str>,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            role: Role::parse(role)?,
            namespace: Pattern::namespace(namespace)?,
            context: context.map_or(Ok(Pattern::Any), Pattern::context)?,
        })
    }

    /// The grant of a global admin: `admin` on `*` and `*`.
    pub fn global_admin() -> Self {
        Self {
            role: Role::Admin,
            namespace: Pattern::Any,
            context: Pattern::Any,
        }
    }

    /// Whether this grant allows `action` in `namespace` (and `context`, for actions on
    /// deployments).
    pub fn allows(&self, action: Action, namespace: &str, context: Option<&str>) -> bool {
        self.role >= action.least_role()
            && self.namespace.matches(namespace)
            && (!action.concerns_context()
                || context.is_some_and(|context| self.context.matches(context)))
    }
}

/// The namespaces a token may read: what lists are filtered by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Every namespace.
    All,
    /// Namespaces matching any of these patterns (none of them `*`).
    Matching(Vec<Pattern>),
}

impl Visibility {
    /// Whether `namespace` is visible.
    pub fn includes(&self, namespace: &str) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Matching(patterns) => patterns.iter().any(|p| p.matches(namespace)),
        }
    }
}

/// A token's grants: 1..=16, any of which may allow a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Grants(Vec<Grant>);

impl Grants {
    /// The most grants a token holds.
    pub const MAX: usize = 16;

    /// Validates a token's grants: 1..=16 of them.
    pub fn new(grants: Vec<Grant>) -> Result<Self, ValidationError> {
        if grants.is_empty() || grants.len() > Self::MAX {
            return Err(ValidationError::GrantCount(grants.len()));
        }
        Ok(Self(grants))
    }

    /// The grants of a global admin.
    pub fn global_admin() -> Self {
        Self(vec![Grant::global_admin()])
    }

    /// The grants, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &Grant> {
        self.0.iter()
    }

    /// Whether any grant allows `action` in `namespace` (and `context`).
    pub fn allows(&self, action: Action, namespace: &str, context: Option<&str>) -> bool {
        self.0
            .iter()
            .any(|grant| grant.allows(action, namespace, context))
    }

    /// Whether these grants make a global admin, who alone manages tokens and reads the audit
    /// log.
    pub fn is_global_admin(&self) -> bool {
        self.0.contains(&Grant::global_admin())
    }

    /// The namespaces these grants may read.
    pub fn visible_namespaces(&self) -> Visibility {
        if self.0.iter().any(|g| g.namespace == Pattern::Any) {
            return Visibility::All;
        }
        let mut patterns: Vec<Pattern> = Vec::new();
        for grant in &self.0 {
            if !patterns.contains(&grant.namespace) {
                patterns.push(grant.namespace.clone());
            }
        }
        Visibility::Matching(patterns)
    }
}

/// Why a token was refused an action: the message API clients read with a 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The token's name.
    pub token: String,
    /// What it tried.
    pub action: Action,
    /// Where.
    pub namespace: String,
    /// In which context, for actions on deployments.
    pub context: Option<String>,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "token {:?} may not {}",
            self.token,
            self.action.describe()
        )?;
        match (&self.context, self.action) {
            (Some(context), Action::Deploy) => write!(f, " to context {context:?}")?,
            (Some(context), _) => write!(f, " of context {context:?}")?,
            (None, _) => {}
        }
        write!(f, " in namespace {:?}", self.namespace)
    }
}

#[cfg(test)]
mod tests;
