//! Release attributes from `--attr-file` and `--attr`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml_ng::Value;

use crate::error::CliError;

/// The attributes of `--attr-file` (if any), overridden by those of `--attr`.
pub fn collect(
    file: Option<&Path>,
    flags: &[(String, String)],
) -> Result<BTreeMap<String, String>, CliError> {
    let mut attributes = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::Failed(format!(
                    "cannot read attribute file {}: {e}",
                    path.display()
                ))
            })?;
            parse_file(&text)
                .map_err(|e| CliError::Failed(format!("attribute file {}: {e}", path.display())))?
        }
        None => BTreeMap::new(),
    };
    attributes.extend(flags.iter().cloned());
    Ok(attributes)
}

/// A YAML mapping of scalars, or `NAME=VALUE` lines (blank lines and `#` comments skipped).
fn parse_file(text: &str) -> Result<BTreeMap<String, String>, String> {
    if let Ok(Value::Mapping(mapping)) = serde_yaml_ng::from_str::<Value>(text) {
        return mapping
            .into_iter()
            .map(|(name, value)| Ok((scalar(&name)?, scalar(&value)?)))
            .collect();
    }
    let mut attributes = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line.split_once('=').ok_or_else(|| {
            format!(
                "line {} is neither NAME=VALUE nor part of a YAML mapping: {line:?}",
                number + 1
            )
        })?;
        attributes.insert(name.trim().to_owned(), value.to_owned());
    }
    Ok(attributes)
}

/// A YAML scalar as the string it was written as (`3` -> "3", `true` -> "true").
fn scalar(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(format!(
            "attribute values must be strings, numbers or booleans, got {}",
            serde_yaml_ng::to_string(other)
                .unwrap_or_default()
                .trim_end()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn name_value_lines() {
        let text = "# from CI\nimage=registry/x:1\n\ncommit = 3f2a\nurl=https://a/?b=c\n";
        assert_eq!(
            parse_file(text).unwrap(),
            map(&[
                ("image", "registry/x:1"),
                ("commit", " 3f2a"),
                ("url", "https://a/?b=c")
            ])
        );
        assert_eq!(
            parse_file("image=x\noops\n").unwrap_err(),
            "line 2 is neither NAME=VALUE nor part of a YAML mapping: \"oops\""
        );
    }

    #[test]
    fn yaml_mappings() {
        let text = "image: registry/x:1\nreplicas: 3\ndebug: false\n";
        assert_eq!(
            parse_file(text).unwrap(),
            map(&[
                ("image", "registry/x:1"),
                ("replicas", "3"),
                ("debug", "false")
            ])
        );
        assert!(
            parse_file("image:\n  nested: x\n")
                .unwrap_err()
                .starts_with("attribute values must be strings")
        );
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("release.env");
        std::fs::write(&file, "image=old\ncommit=c\n").unwrap();
        let flags = [("image".to_owned(), "new".to_owned())];
        assert_eq!(
            collect(Some(&file), &flags).unwrap(),
            map(&[("commit", "c"), ("image", "new")])
        );
        let missing = collect(Some(&dir.path().join("nope")), &[]).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("cannot read attribute file ")
        );
    }
}
