use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::{ValidationError, shorten};

/// The most attributes a release can have.
pub const MAX_ATTRIBUTES: usize = 256;
/// The largest attribute value, in bytes.
pub const MAX_ATTRIBUTE_VALUE_BYTES: usize = 64 * 1024;
/// Built-in template variable holding the service name.
pub const BUILTIN_SERVICE: &str = "service";
/// Built-in template variable holding the namespace.
pub const BUILTIN_NAMESPACE: &str = "namespace";
/// Built-in template variable holding the version.
pub const BUILTIN_VERSION: &str = "version";
/// Built-in template variable holding the name of the context deployed to. Set at deploy time;
/// when a release is created, its template is checked with [`VALIDATION_CONTEXT`] in its place.
pub const BUILTIN_CONTEXT: &str = "context";
/// The value of [`BUILTIN_CONTEXT`] while a release's template is checked at creation.
pub const VALIDATION_CONTEXT: &str = "kubernaut-validation";

/// An attribute name: 1..=128 characters of `[A-Za-z0-9_.-]`, starting with a letter or `_`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct AttributeName(String);

impl AttributeName {
    /// The longest attribute name accepted, in characters.
    pub const MAX_LEN: usize = 128;

    /// Validates an attribute name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let bytes = value.as_bytes();
        let valid = !bytes.is_empty()
            && bytes.len() <= Self::MAX_LEN
            && (bytes[0].is_ascii_alphabetic() || bytes[0] == b'_')
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::InvalidAttributeName(shorten(value)))
        }
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for AttributeName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AttributeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An attribute value: a string of at most 64 KiB that cannot carry YAML document markers or
/// control characters into a manifest.
///
/// This is the first line of defence against injection; the template crate re-checks the
/// structure of every rendered manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct AttributeValue(String);

impl AttributeValue {
    /// Validates the value of the attribute `name`.
    pub fn parse(name: &AttributeName, value: &str) -> Result<Self, ValidationError> {
        if value.len() > MAX_ATTRIBUTE_VALUE_BYTES {
            return Err(ValidationError::AttributeValueTooLong {
                name: name.to_string(),
                bytes: value.len(),
            });
        }
        if let Some(character) = value
            .chars()
            .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(ValidationError::AttributeControlCharacter {
                name: name.to_string(),
                character,
            });
        }
        for line in value.lines() {
            for marker in ["---", "..."] {
                let rest = line.strip_prefix(marker);
                if rest.is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t'])) {
                    return Err(ValidationError::AttributeDocumentMarker {
                        name: name.to_string(),
                        marker,
                    });
                }
            }
        }
        Ok(Self(value.to_owned()))
    }

    /// The value as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A release's attributes, ordered by name, at most [`MAX_ATTRIBUTES`] of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes(BTreeMap<AttributeName, AttributeValue>);

impl Attributes {
    /// Validates name/value pairs; a name given twice is an error.
    pub fn parse<I, K, V>(pairs: I) -> Result<Self, ValidationError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut map = BTreeMap::new();
        for (name, value) in pairs {
            let name = AttributeName::parse(name.as_ref())?;
            let value = AttributeValue::parse(&name, value.as_ref())?;
            if map.len() == MAX_ATTRIBUTES {
                return Err(ValidationError::TooManyAttributes(MAX_ATTRIBUTES + 1));
            }
            let key = name.to_string();
            if map.insert(name, value).is_some() {
                return Err(ValidationError::DuplicateAttribute(key));
            }
        }
        Ok(Self(map))
    }

    /// The value of the attribute `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(AttributeValue::as_str)
    }

    /// The attributes as `(name, value)` pairs, ordered by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many attributes there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(value: &str) -> AttributeName {
        AttributeName::parse(value).unwrap()
    }

    #[test]
    fn attribute_names() {
        for ok in [
            "image",
            "_x",
            "app.kubernetes.io-name",
            "a1_b",
            &"a".repeat(128),
        ] {
            assert_eq!(name(ok).as_str(), ok);
        }
        for bad in ["", "1a", "-a", ".a", "a b", "a/b", "é", &"a".repeat(129)] {
            assert!(
                matches!(
                    AttributeName::parse(bad),
                    Err(ValidationError::InvalidAttributeName(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            AttributeName::parse("a b").unwrap_err().to_string(),
            "attribute name \"a b\" is invalid: it must be 1 to 128 characters of letters, \
             digits, '_', '.' and '-', starting with a letter or '_'"
        );
    }

    #[test]
    fn values_up_to_64_kib() {
        let image = name("image");
        assert!(AttributeValue::parse(&image, &"x".repeat(MAX_ATTRIBUTE_VALUE_BYTES)).is_ok());
        assert_eq!(
            AttributeValue::parse(&image, &"x".repeat(MAX_ATTRIBUTE_VALUE_BYTES + 1))
                .unwrap_err()
                .to_string(),
            "attribute image is 65537 bytes long; the limit is 65536 bytes"
        );
        assert!(AttributeValue::parse(&image, "").is_ok());
    }

    #[test]
    fn values_cannot_carry_document_markers_or_control_characters() {
        let image = name("image");
        let err =
            AttributeValue::parse(&image, "nginx\n---\nkind: ClusterRoleBinding").unwrap_err();
        assert_eq!(
            err.to_string(),
            "attribute image contains a line starting with the YAML document marker \"---\", \
             which could inject a document into the manifest"
        );
        assert!(matches!(
            AttributeValue::parse(&image, "a\n...\n"),
            Err(ValidationError::AttributeDocumentMarker { marker: "...", .. })
        ));
        assert!(matches!(
            AttributeValue::parse(&image, "--- x"),
            Err(ValidationError::AttributeDocumentMarker { marker: "---", .. })
        ));
        assert_eq!(
            AttributeValue::parse(&image, "a\u{0}b")
                .unwrap_err()
                .to_string(),
            "attribute image contains the control character '\\0', which is not allowed"
        );
        for ok in [
            "a---b",
            "----",
            "line1\nline2\r\n\tindented",
            "1.0...2.0",
            "x: y",
        ] {
            assert!(AttributeValue::parse(&image, ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn attribute_sets() {
        let attrs = Attributes::parse([("image", "nginx:1"), ("commit", "3f2a")]).unwrap();
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs.get("image"), Some("nginx:1"));
        assert_eq!(
            attrs.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            ["commit", "image"]
        );
        assert_eq!(
            serde_json::to_string(&attrs).unwrap(),
            r#"{"commit":"3f2a","image":"nginx:1"}"#
        );

        let dup = Attributes::parse([("a", "1"), ("a", "2")]).unwrap_err();
        assert_eq!(dup.to_string(), "attribute a is given more than once");

        let many: Vec<_> = (0..=MAX_ATTRIBUTES)
            .map(|i| (format!("a{i}"), "v"))
            .collect();
        assert_eq!(
            Attributes::parse(many).unwrap_err().to_string(),
            "a release has at most 256 attributes, got 257"
        );
        let max: Vec<_> = (0..MAX_ATTRIBUTES)
            .map(|i| (format!("a{i}"), "v"))
            .collect();
        assert_eq!(Attributes::parse(max).unwrap().len(), MAX_ATTRIBUTES);
    }
}
