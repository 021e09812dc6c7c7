use thiserror::Error;

/// Input that a domain value type refuses. Each message names the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    /// A required field is absent or empty.
    #[error("{field} is required")]
    Missing {
        /// The field's name as the API spells it.
        field: &'static str,
    },
    /// A name that must be a DNS-1123 label is not one.
    #[error(
        "{field} must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending \
         with a letter or digit, at most 63 characters), got {value:?}"
    )]
    NotDnsLabel {
        /// The field's name as the API spells it.
        field: &'static str,
        /// The refused value, shortened if long.
        value: String,
    },
    /// A version outside `[A-Za-z0-9][A-Za-z0-9._+-]{0,127}`.
    #[error(
        "version must be 1 to 128 characters of letters, digits, '.', '_', '+' and '-', starting \
         with a letter or digit, got {0:?}"
    )]
    InvalidVersion(String),
    /// An attribute name outside `[A-Za-z_][A-Za-z0-9_.-]{0,127}`.
    #[error(
        "attribute name {0:?} is invalid: it must be 1 to 128 characters of letters, digits, '_', \
         '.' and '-', starting with a letter or '_'"
    )]
    InvalidAttributeName(String),
    /// An attribute value larger than [`crate::MAX_ATTRIBUTE_VALUE_BYTES`].
    #[error("attribute {name} is {bytes} bytes long; the limit is 65536 bytes")]
    AttributeValueTooLong {
        /// The attribute's name.
        name: String,
        /// The value's size in bytes.
        bytes: usize,
    },
    /// An attribute value holding a control character other than tab, CR or LF.
    #[error("attribute {name} contains the control character {character:?}, which is not allowed")]
    AttributeControlCharacter {
        /// The attribute's name.
        name: String,
        /// The offending character.
        character: char,
    },
    /// An attribute value holding a YAML document marker line (`---` or `...`).
    #[error(
        "attribute {name} contains a line starting with the YAML document marker {marker:?}, \
         which could inject a document into the manifest"
    )]
    AttributeDocumentMarker {
        /// The attribute's name.
        name: String,
        /// The marker found.
        marker: &'static str,
    },
    /// More attributes than [`crate::MAX_ATTRIBUTES`].
    #[error("a release has at most 256 attributes, got {0}")]
    TooManyAttributes(usize),
    /// The same attribute given twice (possible in multipart forms).
    #[error("attribute {0} is given more than once")]
    DuplicateAttribute(String),
    /// An attribute named like a built-in (`service`, `namespace`, `version`) with another value.
    #[error(
        "attribute {name} names a built-in variable and must equal its value {builtin:?}, got \
         {value:?}"
    )]
    BuiltinOverride {
        /// The built-in's name.
        name: String,
        /// The built-in's value.
        builtin: String,
        /// The attribute's value, shortened if long.
        value: String,
    },
    /// An empty template.
    #[error("template must not be empty")]
    EmptyTemplate,
    /// A template larger than [`crate::MAX_TEMPLATE_BYTES`].
    #[error("template is {0} bytes long; the limit is 1048576 bytes (1 MiB)")]
    TemplateTooLarge(usize),
    /// A page size outside `1..=1000`.
    #[error("limit must be an integer from 1 to 1000, got {0:?}")]
    InvalidLimit(String),
    /// A negative or non-integer page offset.
    #[error("offset must be an integer of 0 or more, got {0:?}")]
    InvalidOffset(String),
    /// A context name that is empty, too long or holds whitespace or control characters.
    #[error(
        "context must be 1 to 253 characters without whitespace or control characters, got {0:?}"
    )]
    InvalidContext(String),
    /// A deployment status that does not exist.
    #[error(
        "status must be one of pending, applying, rolling_out, succeeded, failed, canceled, got \
         {0:?}"
    )]
    InvalidStatus(String),
    /// An attribute whose name is reserved for a variable set at deploy time.
    #[error(
        "attribute {0} is reserved: a deployment sets it to the name of the context it deploys to"
    )]
    ReservedAttribute(&'static str),
    /// A role that does not exist.
    #[error("role must be one of viewer, releaser, deployer, admin, got {0:?}")]
    InvalidRole(String),
    /// A grant pattern that is not `*`, a name, or a name's start followed by `*`.
    #[error(
        "{field} must be *, a name, or a name's start followed by * (like staging-*), got {value:?}"
    )]
    InvalidPattern {
        /// `namespace` or `context`.
        field: &'static str,
        /// The refused value, shortened if long.
        value: String,
    },
    /// Too few or too many grants.
    #[error("grants must hold 1 to 16 grants, got {0}")]
    GrantCount(usize),
    /// A token name outside `[a-z0-9][a-z0-9._-]{0,62}`.
    #[error(
        "name must be 1 to 63 characters of lowercase letters, digits, '.', '_' and '-', starting \
         with a letter or digit, got {0:?}"
    )]
    InvalidTokenName(String),
    /// A token lifetime outside 1..=3650 days.
    #[error("expiresInDays must be an integer from 1 to 3650, got {0}")]
    InvalidExpiry(i64),
    /// A configured bootstrap token that is not 32..=256 printable ASCII characters.
    #[error(
        "auth.bootstrap_token must be 32 to 256 printable ASCII characters without spaces, got \
         {0} bytes"
    )]
    InvalidBootstrapToken(usize),
    /// An audit action that does not exist.
    #[error(
        "action must be one of release.create, release.delete, deployment.create, \
         deployment.delete, deployment.cancel, token.create, token.revoke, access.denied, got \
         {0:?}"
    )]
    InvalidAuditAction(String),
    /// A notification event that does not exist.
    #[error(
        "event must be one of deployment.started, deployment.succeeded, deployment.failed, \
         deployment.canceled, got {0:?}"
    )]
    InvalidEvent(String),
}

/// Shortens `value` for an error message, so that a 64 KiB value does not make a 64 KiB message.
pub(crate) fn shorten(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    match value.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}...", &value[..end]),
        None => value.to_owned(),
    }
}
