use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ValidationError, shorten};

/// Checks the DNS-1123 label rules: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
fn is_dns1123_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

fn dns1123_label(field: &'static str, value: &str) -> Result<String, ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::Missing { field });
    }
    if !is_dns1123_label(value) {
        return Err(ValidationError::NotDnsLabel {
            field,
            value: shorten(value),
        });
    }
    Ok(value.to_owned())
}

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The value as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;

            fn try_from(value: String) -> Result<Self, ValidationError> {
                Self::parse(&value)
            }
        }
    };
}

string_newtype!(
    /// A service's name: a DNS-1123 label such as `service-jobs-api`.
    ServiceName
);
string_newtype!(
    /// A Kubernetes namespace: a DNS-1123 label such as `jobs`.
    Namespace
);
string_newtype!(
    /// A release version: 1..=128 characters of `[A-Za-z0-9._+-]`, starting alphanumeric
    /// (build numbers, git SHAs, semver).
    Version
);

impl ServiceName {
    /// Validates a service name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        dns1123_label("service", value).map(Self)
    }
}

impl Namespace {
    /// Validates a namespace.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        dns1123_label("namespace", value).map(Self)
    }
}

impl Default for Namespace {
    /// The Kubernetes namespace `default`.
    fn default() -> Self {
        Self("default".to_owned())
    }
}

impl Version {
    /// The longest version accepted, in characters.
    pub const MAX_LEN: usize = 128;

    /// Validates a version.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        if value.is_empty() {
            return Err(ValidationError::Missing { field: "version" });
        }
        let bytes = value.as_bytes();
        let valid = bytes.len() <= Self::MAX_LEN
            && bytes[0].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'));
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::InvalidVersion(shorten(value)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_follow_dns1123() {
        for ok in [
            "a",
            "hello-world",
            "service-jobs-api",
            "a1",
            "0",
            &"a".repeat(63),
        ] {
            assert_eq!(ServiceName::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "Hello",
            "-a",
            "a-",
            "a_b",
            "a.b",
            "é",
            &"a".repeat(64),
            "a b",
        ] {
            let err = ServiceName::parse(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    ValidationError::NotDnsLabel {
                        field: "service",
                        ..
                    }
                ),
                "{bad}"
            );
            assert!(
                err.to_string()
                    .starts_with("service must be a DNS-1123 label")
            );
        }
        assert_eq!(
            ServiceName::parse("").unwrap_err().to_string(),
            "service is required"
        );
    }

    #[test]
    fn namespace_errors_name_the_namespace_field() {
        let err = Namespace::parse("Prod").unwrap_err();
        assert_eq!(
            err.to_string(),
            "namespace must be a DNS-1123 label (lowercase letters, digits and '-', starting and \
             ending with a letter or digit, at most 63 characters), got \"Prod\""
        );
        assert_eq!(Namespace::default().as_str(), "default");
    }

    #[test]
    fn versions_accept_build_numbers_shas_and_semver() {
        for ok in [
            "42",
            "3f2a9c1",
            "1.2.3-rc.1+build.5",
            "v1_2",
            &"9".repeat(128),
        ] {
            assert_eq!(Version::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [".1", "-1", "1/2", "1 2", "ü", &"9".repeat(129)] {
            assert!(
                matches!(Version::parse(bad), Err(ValidationError::InvalidVersion(_))),
                "{bad}"
            );
        }
        assert_eq!(
            Version::parse("").unwrap_err(),
            ValidationError::Missing { field: "version" }
        );
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let err = Version::parse(&format!("/{}", "x".repeat(1000))).unwrap_err();
        assert!(err.to_string().len() < 300, "{err}");
    }

    #[test]
    fn deserializing_validates() {
        let err = serde_json::from_str::<ServiceName>("\"Bad\"").unwrap_err();
        assert!(err.to_string().contains("DNS-1123"));
        let ok: Version = serde_json::from_str("\"42\"").unwrap();
        assert_eq!(ok.as_str(), "42");
    }
}
