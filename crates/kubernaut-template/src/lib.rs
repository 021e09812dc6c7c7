//! Renders kubernaut's manifest templates (mustache) and checks the YAML they produce. No I/O.
//!
//! ```
//! use kubernaut_template::Template;
//!
//! let template = Template::compile(
//!     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{service}}\n\
//!      spec:\n  template:\n    spec:\n      containers:\n      - image: {{image}}\n",
//! )?;
//! let manifest = template.render(&[("service", "web"), ("image", "nginx:1.27")], "default")?;
//! assert_eq!(manifest.documents[0].name, "web");
//! assert!(manifest.yaml.contains("image: nginx:1.27"));
//! # Ok::<(), kubernaut_template::TemplateError>(())
//! ```
//!
//! The render context maps names (the release's attributes and the built-ins
//! [`service`](kubernaut_domain::BUILTIN_SERVICE),
//! [`namespace`](kubernaut_domain::BUILTIN_NAMESPACE) and
//! [`version`](kubernaut_domain::BUILTIN_VERSION)) to string values.
//!
//! # Variables are never HTML-escaped
//!
//! Mustache HTML-escapes `{{x}}`; a manifest is not HTML. Here `{{x}}`, `{{{x}}}` and `{{& x}}`
//! all render the value exactly as written: `a<b>&"c'` stays `a<b>&"c'`.
//!
//! # Strict variables
//!
//! A variable tag naming something absent from the context is an error naming the variable and
//! its line, not an empty string: a typo must not deploy an empty image. The exception is a
//! variable inside a (non-inverted) section on its own name, `{{#x}}...{{x}}...{{/x}}`, which is
//! how a template makes an attribute optional. Sections on absent names are simply false.
//!
//! An empty value is false in both `{{#x}}` and `{{^x}}`; a non-empty value renders a `{{#x}}`
//! section once, where `{{.}}` stands for it. `{{.}}` outside a non-inverted section is an error.
//!
//! Names are looked up as written, dots included: `{{build.number}}` renders the attribute
//! `build.number` (mustache would read a path into nested data; tags are rewritten so that it
//! does not), and `a` and `a.b` can both be attributes.
//!
//! Partials (`{{> name}}`) are refused, without touching the disk: a template is
//! self-contained. Set-delimiter tags work (`{{=<% %>=}}`), with closing delimiters of at most
//! two characters; sections nest at most 64 deep.
//!
//! # Injection defence
//!
//! An attribute value must only fill in a scalar; it must never add YAML structure: documents
//! (`"nginx\n---\nkind: ClusterRoleBinding"`), keys (`"x\nevil: true"`), flow collections
//! (`"{a: b}"`, `"[1, 2]"`), tags, aliases of collections, or break out of quotes
//! (`a", "b": "c`).
//!
//! Every render is checked against a second render of the same template in which every
//! non-empty value is replaced by a neutral placeholder (`kubernaut0x`, `kubernaut1x`, ...: plain
//! scalars wherever they stand) and empty values stay empty (so sections behave the same). Both
//! are parsed and must have the same *shape*: as many documents and, node by node, the same
//! collections (mappings with as many entries in the same order, with keys and values of the same
//! shapes; sequences as long; tagged values in the same places). Scalars of any type are leaves,
//! so `replicas: {{replicas}}` with `3` is fine. A difference, or YAML that only breaks with the
//! real values, is an error naming the document and, when one value alone causes it, the
//! attribute. This needs no knowledge of where in the YAML a tag stands (plain, quoted, block
//! scalar, key or value), so it holds for any template. An alias to a scalar anchor passes: it can
//! only copy a scalar that the template already holds.
//!
//! # Performance
//!
//! Parsing YAML costs far more than rendering mustache, so a [`Template`] caches, per pattern of
//! empty and non-empty values, the parsed placeholder render. When every non-empty value is
//! *inert* (ASCII letters, digits and `._-/:+=@%~`, starting and ending with a letter, a digit or
//! `/`, like `nginx:1.27`, `42`, `eu-west-1` or `https://ci.example.com/job/42/`), a render does not parse the YAML at all: it fills the
//! values into the cached documents, where they can only stand inside scalars (plain scalars are
//! resolved to null, booleans and numbers exactly as serde_yaml_ng does). That fast path is only
//! used for templates whose placeholders all stand in scalar values (not in keys, comments, tags,
//! anchors or aliases), which is checked against a second, probe render. Other renders take the
//! path above: one mustache render, one YAML parse, one shape comparison.
//!
//! # Document checks
//!
//! The rendered YAML is split into documents; empty ones are ignored, and there must be at least
//! one. Each must be a mapping with non-empty string `apiVersion`, `kind` and `metadata.name`;
//! a `metadata.namespace`, where given, must equal the release namespace. Merge keys (`<<`) are
//! applied, as Kubernetes does.
//!
//! Apply [`Document::value`], never a re-parse of [`Manifest::yaml`] by another parser, so that
//! what was checked is what gets applied.

mod error;
mod fast;
mod manifest;
mod plain;
mod shape;
mod tags;
mod template;

pub use error::{DocumentRef, TemplateError};
pub use manifest::{Document, Manifest};
pub use template::Template;

/// Compiles `source` and renders it with `context` for `namespace`: see [`Template::compile`] and
/// [`Template::render`].
pub fn render(
    source: &str,
    context: &[(&str, &str)],
    namespace: &str,
) -> Result<Manifest, TemplateError> {
    Template::compile(source)?.render(context, namespace)
}
