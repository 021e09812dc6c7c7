use std::fmt;

use thiserror::Error;

/// Why a template does not compile, or does not render into valid manifests.
///
/// Each message is one sentence that names the template line (for tags) or the rendered document
/// (its 1-based index, and its kind and name when known) and says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    /// A tag that is opened but never closed.
    #[error("template line {line}: the tag starting `{tag}` is not closed with `{close}`")]
    UnclosedTag {
        /// The line the tag starts on.
        line: usize,
        /// The start of the tag, shortened.
        tag: String,
        /// The closing delimiter in force.
        close: String,
    },
    /// A closing delimiter interrupted by another character, such as `{{a}b}}`.
    #[error(
        "template line {line}: in the tag `{tag}`, {found:?} breaks the closing delimiter \
         `{close}` (expected {expected:?})"
    )]
    BadClosingTag {
        /// The line the tag starts on.
        line: usize,
        /// The tag up to the offending character, shortened.
        tag: String,
        /// The closing delimiter in force.
        close: String,
        /// The character found.
        found: char,
        /// The character the delimiter needs.
        expected: char,
    },
    /// A tag with nothing in it, such as `{{ }}` or `{{#}}`.
    #[error("template line {line}: the tag `{tag}` names nothing")]
    EmptyTag {
        /// The tag's line.
        line: usize,
        /// The tag as written, shortened.
        tag: String,
    },
    /// A tag that opens with `{` but does not end with `}`, such as `{{{x}}`.
    #[error("template line {line}: the tag `{tag}` opens with `{{` but does not end with `}}`")]
    UnbalancedBrace {
        /// The tag's line.
        line: usize,
        /// The tag as written, shortened.
        tag: String,
    },
    /// A set-delimiter tag that is malformed or that this crate does not support.
    #[error(
        "template line {line}: the set-delimiter tag `{tag}` is invalid: write it as \
         `{{{{=OPEN CLOSE=}}}}`, with a closing delimiter of one or two characters"
    )]
    InvalidDelimiters {
        /// The tag's line.
        line: usize,
        /// The tag as written, shortened.
        tag: String,
    },
    /// A partial (`{{> name}}`): templates must be self-contained.
    #[error(
        "template line {line}: the partial `{tag}` is not supported: a template must be \
         self-contained"
    )]
    Partial {
        /// The tag's line.
        line: usize,
        /// The tag as written, shortened.
        tag: String,
    },
    /// A section that is opened but never closed.
    #[error("template line {line}: the section `{tag}` is never closed")]
    UnclosedSection {
        /// The line of the opening tag.
        line: usize,
        /// The opening tag as written, shortened.
        tag: String,
    },
    /// A closing tag with no open section.
    #[error("template line {line}: `{tag}` closes a section that is not open")]
    UnopenedSection {
        /// The closing tag's line.
        line: usize,
        /// The closing tag as written, shortened.
        tag: String,
    },
    /// A closing tag that does not match the innermost open section.
    #[error(
        "template line {line}: `{tag}` does not close the innermost open section `{open_tag}` \
         (line {open_line})"
    )]
    MismatchedSection {
        /// The closing tag's line.
        line: usize,
        /// The closing tag as written, shortened.
        tag: String,
        /// The innermost open section's tag, shortened.
        open_tag: String,
        /// The line of the innermost open section.
        open_line: usize,
    },
    /// Sections nested deeper than the engine may safely render.
    #[error("template line {line}: the section `{tag}` is nested more than {max} sections deep")]
    TooDeep {
        /// The tag's line.
        line: usize,
        /// The tag as written, shortened.
        tag: String,
        /// The deepest nesting allowed.
        max: usize,
    },
    /// `{{.}}` (or a section on `.`) outside of any `{{#section}}`.
    #[error(
        "template line {line}: `{tag}` names the current section value, so it may only stand \
         inside a `{{{{#section}}}}`"
    )]
    ImplicitOutsideSection {
        /// The tag's line.
        line: usize,
        /// The tag as written, shortened.
        tag: String,
    },
    /// The mustache engine refused the rewritten template or failed to render it (a safety net:
    /// the tag scanner rejects such templates first).
    #[error("the mustache engine refused the template: {0}")]
    Engine(String),
    /// A variable tag naming something absent from the context, outside a section on that name.
    #[error(
        "template line {line}: variable `{name}` is not defined: give the release an attribute \
         {name} (--attr {name}=VALUE in the CLI, an \"attributes\" entry in JSON) or put the \
         tag inside {{{{#{name}}}}}...{{{{/{name}}}}}; defined: {defined}"
    )]
    UndefinedVariable {
        /// The line of the variable's first unguarded use.
        line: usize,
        /// The variable's name.
        name: String,
        /// The names the context defines, sorted and comma-separated.
        defined: String,
    },
    /// A rendered document that is not valid YAML, whatever the attribute values.
    #[error(
        "document {document} is not valid YAML (line numbers are those of the rendered \
         manifest): {message}"
    )]
    YamlSyntax {
        /// The document's 1-based index in the rendered manifest.
        document: usize,
        /// The YAML parser's message.
        message: String,
    },
    /// Rendered YAML that is only invalid because of an attribute value.
    #[error(
        "document {document} is not valid YAML because of {}, which may only fill in a scalar \
         (line numbers are those of the rendered manifest): {message}",
        culprit(.attribute)
    )]
    ValueBreaksYaml {
        /// The document's 1-based index in the rendered manifest.
        document: usize,
        /// The attribute to blame, when a single one is.
        attribute: Option<String>,
        /// The YAML parser's message.
        message: String,
    },
    /// An attribute value that changed the manifest's structure: it added or removed documents,
    /// keys, list items, flow collections, tags or aliases of collections.
    #[error(
        "{document}: {} changed the manifest's structure; a value may only fill in a scalar, never \
         add documents, keys, list items or flow collections",
        culprit(.attribute)
    )]
    StructureChanged {
        /// The first document whose structure differs.
        document: DocumentRef,
        /// The attribute to blame, when a single one is.
        attribute: Option<String>,
    },
    /// The rendered manifest has no non-empty YAML document.
    #[error("the rendered template contains no YAML document")]
    NoDocuments,
    /// The whole template is a file's name, not its content (`-F template=kubernetes.yaml`).
    #[error(
        "the template is the text {name:?}, which looks like a file name, not a manifest: send \
         the file's content (curl -F template=@{name}, with @; the CLI's --template {name})"
    )]
    FileName {
        /// The text.
        name: String,
    },
    /// A rendered document that is not a mapping.
    #[error("document {document} must be a mapping (a Kubernetes object), found {found}")]
    NotAMapping {
        /// The document's 1-based index in the rendered manifest.
        document: usize,
        /// What it is instead, such as "a sequence".
        found: &'static str,
    },
    /// A rendered document without a required field.
    #[error("{document} has no `{field}`")]
    MissingField {
        /// The document.
        document: DocumentRef,
        /// The field's path, such as `metadata.name`.
        field: &'static str,
    },
    /// A rendered document with a field of the wrong type or an empty one.
    #[error("{document}: `{field}` must be {expected}, found {found}")]
    InvalidField {
        /// The document.
        document: DocumentRef,
        /// The field's path, such as `metadata.name`.
        field: &'static str,
        /// What the field must be, such as "a non-empty string".
        expected: &'static str,
        /// What it is instead, such as "a number".
        found: &'static str,
    },
    /// A rendered document in another namespace than the release's.
    #[error("{document} is in namespace `{found}`, but the release namespace is `{expected}`")]
    WrongNamespace {
        /// The document.
        document: DocumentRef,
        /// The namespace the document names.
        found: String,
        /// The release namespace.
        expected: String,
    },
}

fn culprit(attribute: &Option<String>) -> String {
    match attribute {
        Some(name) => format!("the value of attribute `{name}`"),
        None => "an attribute value".to_owned(),
    }
}

/// Names a rendered document in error messages: `document 2 (Deployment/web)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRef {
    /// The document's 1-based index among all documents of the rendered manifest.
    pub index: usize,
    /// Its `kind`, when it has a non-empty string one.
    pub kind: Option<String>,
    /// Its `metadata.name`, when it has a non-empty string one.
    pub name: Option<String>,
}

impl fmt::Display for DocumentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {}", self.index)?;
        match (&self.kind, &self.name) {
            (Some(kind), Some(name)) => write!(f, " ({kind}/{name})"),
            (Some(kind), None) => write!(f, " ({kind})"),
            (None, Some(name)) => write!(f, " (named {name})"),
            (None, None) => Ok(()),
        }
    }
}

/// Shortens template text quoted in a message, so that a 1 MiB tag does not make a 1 MiB message.
pub(crate) fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    match text.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(index: usize, kind: Option<&str>, name: Option<&str>) -> DocumentRef {
        DocumentRef {
            index,
            kind: kind.map(str::to_owned),
            name: name.map(str::to_owned),
        }
    }

    #[test]
    fn documents_are_named_by_index_kind_and_name() {
        assert_eq!(
            doc(2, Some("Deployment"), Some("web")).to_string(),
            "document 2 (Deployment/web)"
        );
        assert_eq!(
            doc(1, Some("Service"), None).to_string(),
            "document 1 (Service)"
        );
        assert_eq!(doc(3, None, Some("x")).to_string(), "document 3 (named x)");
        assert_eq!(doc(4, None, None).to_string(), "document 4");
    }

    #[test]
    fn engine_errors_say_where_they_come_from() {
        assert_eq!(
            TemplateError::Engine("found an unclosed tag".to_owned()).to_string(),
            "the mustache engine refused the template: found an unclosed tag"
        );
    }

    #[test]
    fn long_text_is_shortened() {
        assert_eq!(shorten("{{x}}"), "{{x}}");
        let long = format!("{{{{{}", "é".repeat(100));
        assert_eq!(shorten(&long), format!("{{{{{}...", "é".repeat(58)));
    }
}
