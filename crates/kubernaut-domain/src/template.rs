use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ValidationError;

/// The largest template source accepted, in bytes (1 MiB).
pub const MAX_TEMPLATE_BYTES: usize = 1024 * 1024;

/// The mustache source of a Kubernetes manifest: non-empty, at most 1 MiB.
///
/// This type checks only size; whether the source renders to valid manifests is the template
/// crate's job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TemplateSource(String);

impl TemplateSource {
    /// Validates a template source.
    pub fn parse(source: impl Into<String>) -> Result<Self, ValidationError> {
        let source = source.into();
        if source.trim().is_empty() {
            return Err(ValidationError::EmptyTemplate);
        }
        if source.len() > MAX_TEMPLATE_BYTES {
            return Err(ValidationError::TemplateTooLarge(source.len()));
        }
        Ok(Self(source))
    }

    /// The source text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The sha256 checksum that identifies this source.
    pub fn checksum(&self) -> Checksum {
        Checksum(
            Sha256::digest(self.0.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }
}

/// The lowercase hex sha256 of a template source; identical sources share one checksum.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Checksum(String);

impl Checksum {
    /// Wraps a checksum read back from storage.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_sha256_hex() {
        let source = TemplateSource::parse("abc").unwrap();
        assert_eq!(
            source.checksum().as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn empty_and_oversized_templates_are_refused() {
        assert_eq!(
            TemplateSource::parse(" \n").unwrap_err().to_string(),
            "template must not be empty"
        );
        assert!(TemplateSource::parse("x".repeat(MAX_TEMPLATE_BYTES)).is_ok());
        assert_eq!(
            TemplateSource::parse("x".repeat(MAX_TEMPLATE_BYTES + 1))
                .unwrap_err()
                .to_string(),
            "template is 1048577 bytes long; the limit is 1048576 bytes (1 MiB)"
        );
    }
}
