//! Rendered manifests: YAML documents, each checked to be a Kubernetes object in the release
//! namespace.

use serde_yaml_ng::{Deserializer, Mapping, Value};

use crate::error::{DocumentRef, TemplateError};

/// The rendered manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The rendered YAML, as produced by the template.
    pub yaml: String,
    /// Its non-empty documents, in order.
    pub documents: Vec<Document>,
}

/// One non-empty rendered YAML document, checked to be a Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The 1-based position among all documents of the rendered YAML, empty ones included.
    pub index: usize,
    /// Its `apiVersion`.
    pub api_version: String,
    /// Its `kind`.
    pub kind: String,
    /// Its `metadata.name`.
    pub name: String,
    /// Its `metadata.namespace` as written (`None` when absent, null or empty); when given, it
    /// equals the release namespace.
    pub namespace: Option<String>,
    /// The parsed document, with merge keys (`<<`) applied.
    pub value: Value,
}

impl Manifest {
    /// Parses and checks an already rendered manifest, as a stored deployment holds it: the
    /// same document checks as [`Template::render`](crate::Template::render) makes, so that what
    /// is applied is checked again right before it is.
    pub fn parse(yaml: String, namespace: &str) -> Result<Manifest, TemplateError> {
        let documents = parse(&yaml).map_err(|error| TemplateError::YamlSyntax {
            document: error.document,
            message: error.message,
        })?;
        check(yaml, documents, namespace)
    }
}

/// A YAML syntax error in a rendered manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    /// The 1-based index of the document that fails to parse.
    pub(crate) document: usize,
    /// The parser's message.
    pub(crate) message: String,
}

/// Parses every document of `yaml`, empty ones included (as nulls).
pub(crate) fn parse(yaml: &str) -> Result<Vec<Value>, YamlError> {
    let mut documents = Vec::new();
    for document in Deserializer::from_str(yaml) {
        // `singleton_map::deserialize` passes `deserialize_any` straight through, so this is
        // `Value::deserialize(document)` without naming the `serde` crate's trait.
        let value: Result<Value, _> = serde_yaml_ng::with::singleton_map::deserialize(document);
        match value {
            Ok(value) => documents.push(value),
            // After an error the deserializer repeats it forever: stop at the first.
            Err(error) => {
                return Err(YamlError {
                    document: documents.len() + 1,
                    message: error.to_string(),
                });
            }
        }
    }
    Ok(documents)
}

/// Checks the parsed `documents` of `yaml` and builds the manifest.
pub(crate) fn check(
    yaml: String,
    documents: Vec<Value>,
    namespace: &str,
) -> Result<Manifest, TemplateError> {
    let merges = yaml.contains("<<");
    let mut checked = Vec::with_capacity(documents.len());
    for (position, mut value) in documents.into_iter().enumerate() {
        let index = position + 1;
        if value.is_null() {
            continue;
        }
        // A merge key is written `<<`: most manifests have none, so skip the walk.
        if merges {
            value
                .apply_merge()
                .map_err(|error| TemplateError::YamlSyntax {
                    document: index,
                    message: error.to_string(),
                })?;
        }
        checked.push(document(index, value, namespace)?);
    }
    if checked.is_empty() {
        return Err(TemplateError::NoDocuments);
    }
    Ok(Manifest {
        yaml,
        documents: checked,
    })
}

fn document(index: usize, value: Value, namespace: &str) -> Result<Document, TemplateError> {
    let Fields {
        api_version,
        kind,
        name,
        namespace,
    } = fields(index, &value, namespace)?;
    Ok(Document {
        index,
        api_version,
        kind,
        name,
        namespace,
        value,
    })
}

/// Whether `text` reads like a manifest file's name rather than a manifest.
fn looks_like_file_name(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty()
        && text.len() <= 255
        && !text.contains(char::is_whitespace)
        && [".yaml", ".yml", ".json", ".mustache", ".tpl"]
            .iter()
            .any(|extension| text.to_ascii_lowercase().ends_with(extension))
}

/// The fields every document needs.
struct Fields {
    api_version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
}

fn fields(index: usize, value: &Value, namespace: &str) -> Result<Fields, TemplateError> {
    let Value::Mapping(object) = value else {
        if let Value::String(text) = value
            && index == 1
            && looks_like_file_name(text)
        {
            return Err(TemplateError::FileName { name: text.clone() });
        }
        return Err(TemplateError::NotAMapping {
            document: index,
            found: describe(value),
        });
    };
    let document = describe_document(index, Some(value));
    let api_version = required_string(object.get("apiVersion"), "apiVersion", &document)?;
    let kind = required_string(object.get("kind"), "kind", &document)?;
    let metadata = match object.get("metadata") {
        None | Some(Value::Null) => {
            return Err(TemplateError::MissingField {
                document,
                field: "metadata.name",
            });
        }
        Some(Value::Mapping(metadata)) => metadata,
        Some(other) => {
            return Err(TemplateError::InvalidField {
                document,
                field: "metadata",
                expected: "a mapping",
                found: describe(other),
            });
        }
    };
    let name = required_string(metadata.get("name"), "metadata.name", &document)?;
    let found_namespace = document_namespace(metadata, &document)?;
    if let Some(found) = found_namespace.filter(|found| *found != namespace) {
        return Err(TemplateError::WrongNamespace {
            document,
            found: found.to_owned(),
            expected: namespace.to_owned(),
        });
    }
    Ok(Fields {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        namespace: found_namespace.map(str::to_owned),
    })
}

/// `metadata.namespace`: absent, null and empty all mean "not given".
fn document_namespace<'v>(
    metadata: &'v Mapping,
    document: &DocumentRef,
) -> Result<Option<&'v str>, TemplateError> {
    match metadata.get("namespace") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(namespace)) => Ok(Some(namespace.as_str()).filter(|ns| !ns.is_empty())),
        Some(other) => Err(TemplateError::InvalidField {
            document: document.clone(),
            field: "metadata.namespace",
            expected: "a string",
            found: describe(other),
        }),
    }
}

fn required_string<'v>(
    value: Option<&'v Value>,
    field: &'static str,
    document: &DocumentRef,
) -> Result<&'v str, TemplateError> {
    let found = match value {
        None | Some(Value::Null) => {
            return Err(TemplateError::MissingField {
                document: document.clone(),
                field,
            });
        }
        Some(Value::String(text)) if !text.is_empty() => return Ok(text),
        Some(Value::String(_)) => "an empty string",
        Some(other) => describe(other),
    };
    Err(TemplateError::InvalidField {
        document: document.clone(),
        field,
        expected: "a non-empty string",
        found,
    })
}

/// Names a document by its index, and its kind and name where they are non-empty strings.
pub(crate) fn describe_document(index: usize, value: Option<&Value>) -> DocumentRef {
    let text = |value: Option<&Value>| {
        value
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    DocumentRef {
        index,
        kind: text(value.and_then(|value| value.get("kind"))),
        name: text(
            value
                .and_then(|value| value.get("metadata"))
                .and_then(|metadata| metadata.get("name")),
        ),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a sequence",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";

    fn checked(yaml: &str) -> Result<Manifest, TemplateError> {
        check(yaml.to_owned(), parse(yaml).unwrap(), "default")
    }

    fn message(yaml: &str) -> String {
        checked(yaml).unwrap_err().to_string()
    }

    #[test]
    fn documents_are_split_and_empty_ones_skipped_but_counted() {
        let yaml = format!("---\n# only a comment\n---\n{DEPLOYMENT}---\n---\n{DEPLOYMENT}");
        let manifest = checked(&yaml).unwrap();
        assert_eq!(manifest.yaml, yaml);
        let indexes: Vec<usize> = manifest.documents.iter().map(|d| d.index).collect();
        assert_eq!(indexes, [2, 4]);
        let document = &manifest.documents[0];
        assert_eq!(document.api_version, "apps/v1");
        assert_eq!(document.kind, "Deployment");
        assert_eq!(document.name, "web");
        assert_eq!(document.namespace, None);
        assert_eq!(document.value["metadata"]["name"].as_str(), Some("web"));
    }

    #[test]
    fn a_stored_manifest_is_checked_again() {
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n";
        let manifest = Manifest::parse(yaml.to_owned(), "default").unwrap();
        assert_eq!(manifest.documents[0].name, "cfg");
        let moved = Manifest::parse(format!("{yaml}  namespace: kube-system\n"), "default");
        assert!(moved.unwrap_err().to_string().contains("kube-system"));
        let broken = Manifest::parse("a: [".to_owned(), "default");
        assert!(matches!(
            broken,
            Err(TemplateError::YamlSyntax { document: 1, .. })
        ));
    }

    #[test]
    fn a_manifest_needs_a_document() {
        for empty in ["", "\n", "# nothing\n", "---\n---\n", "---\n...\n"] {
            assert_eq!(
                checked(empty).unwrap_err(),
                TemplateError::NoDocuments,
                "{empty:?}"
            );
        }
        assert_eq!(
            message(""),
            "the rendered template contains no YAML document"
        );
    }

    #[test]
    fn syntax_errors_name_the_document() {
        let error = parse(&format!("{DEPLOYMENT}---\nspec: [\n---\n{DEPLOYMENT}")).unwrap_err();
        assert_eq!(error.document, 2);
        assert_eq!(
            TemplateError::YamlSyntax {
                document: error.document,
                message: error.message,
            }
            .to_string(),
            "document 2 is not valid YAML (line numbers are those of the rendered manifest): \
             did not find expected node content at line 7 column 1, while parsing a flow node"
        );
        assert_eq!(
            parse("a: 1\na: 2\n").unwrap_err().message,
            "duplicate entry with key \"a\""
        );
        assert_eq!(parse("a: *nothing\n").unwrap_err().document, 1);
    }

    #[test]
    fn documents_must_be_mappings() {
        assert_eq!(
            message(&format!("{DEPLOYMENT}---\n- a\n- b\n")),
            "document 2 must be a mapping (a Kubernetes object), found a sequence"
        );
        assert_eq!(
            message("just text"),
            "document 1 must be a mapping (a Kubernetes object), found a string"
        );
        assert_eq!(
            message("deploy/kubernetes.yaml"),
            "the template is the text \"deploy/kubernetes.yaml\", which looks like a file name, \
             not a manifest: send the file's content (curl -F template=@deploy/kubernetes.yaml, \
             with @; the CLI's --template deploy/kubernetes.yaml)"
        );
        assert_eq!(
            message("!Thing {a: 1}"),
            "document 1 must be a mapping (a Kubernetes object), found a tagged value"
        );
    }

    #[test]
    fn api_version_kind_and_name_are_required_strings() {
        assert_eq!(
            message("kind: Deployment\nmetadata:\n  name: web\n"),
            "document 1 (Deployment/web) has no `apiVersion`"
        );
        assert_eq!(
            message("apiVersion: v1\nkind:\nmetadata:\n  name: web\n"),
            "document 1 (named web) has no `kind`"
        );
        assert_eq!(
            message("apiVersion: v1\nkind: Service\n"),
            "document 1 (Service) has no `metadata.name`"
        );
        assert_eq!(
            message("apiVersion: v1\nkind: Service\nmetadata:\n  labels: {}\n"),
            "document 1 (Service) has no `metadata.name`"
        );
        assert_eq!(
            message("apiVersion: 1\nkind: Service\nmetadata:\n  name: web\n"),
            "document 1 (Service/web): `apiVersion` must be a non-empty string, found a number"
        );
        assert_eq!(
            message("apiVersion: v1\nkind: [Service]\nmetadata:\n  name: web\n"),
            "document 1 (named web): `kind` must be a non-empty string, found a sequence"
        );
        assert_eq!(
            message("apiVersion: v1\nkind: Service\nmetadata:\n  name: ''\n"),
            "document 1 (Service): `metadata.name` must be a non-empty string, found an empty \
             string"
        );
        assert_eq!(
            message("apiVersion: v1\nkind: Service\nmetadata: web\n"),
            "document 1 (Service): `metadata` must be a mapping, found a string"
        );
    }

    #[test]
    fn a_namespace_must_be_the_release_namespace() {
        assert_eq!(
            message(&format!("{DEPLOYMENT}  namespace: kube-system\n")),
            "document 1 (Deployment/web) is in namespace `kube-system`, but the release \
             namespace is `default`"
        );
        assert_eq!(
            message(&format!("{DEPLOYMENT}  namespace: 7\n")),
            "document 1 (Deployment/web): `metadata.namespace` must be a string, found a number"
        );
        let given = checked(&format!("{DEPLOYMENT}  namespace: default\n")).unwrap();
        assert_eq!(given.documents[0].namespace.as_deref(), Some("default"));
        for absent in ["", "  namespace:\n", "  namespace: ''\n"] {
            let manifest = checked(&format!("{DEPLOYMENT}{absent}")).unwrap();
            assert_eq!(manifest.documents[0].namespace, None, "{absent:?}");
        }
    }

    #[test]
    fn merge_keys_are_applied() {
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  <<: {name: base, labels: {a: b}}\n  \
                    name: web\n";
        let manifest = checked(yaml).unwrap();
        let metadata = &manifest.documents[0].value["metadata"];
        assert_eq!(metadata["name"].as_str(), Some("web"));
        assert_eq!(metadata["labels"]["a"].as_str(), Some("b"));
        assert!(metadata.get("<<").is_none());
        assert_eq!(
            message("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  <<: 1\n  name: web\n"),
            "document 1 is not valid YAML (line numbers are those of the rendered manifest): \
             expected a mapping or list of mappings for merging, but found scalar"
        );
    }
}
