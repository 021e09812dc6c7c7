//! Compiling templates, and rendering them into checked manifests.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use mustache::Data;
use serde_yaml_ng::Value;

use crate::error::TemplateError;
use crate::fast::{self, Plan, Tokens};
use crate::manifest::{self, Manifest};
use crate::shape::Shape;
use crate::tags::{self, Required};

/// How many patterns of empty and non-empty values a template remembers the expectations of.
const MAX_CACHED_PATTERNS: usize = 16;
/// How much YAML the search for the attribute to blame may render, in bytes.
const BLAME_BUDGET: usize = 16 * 1024 * 1024;
/// How many context names an undefined-variable message lists.
const MAX_LISTED_NAMES: usize = 32;

/// A template compiled once and rendered many times; clones are cheap and share it (and its
/// cache of placeholder renders).
#[derive(Debug, Clone)]
pub struct Template {
    inner: Arc<Compiled>,
}

/// What the template renders with placeholder values, for one pattern of non-empty values.
#[derive(Debug)]
struct Expected {
    /// The shape of its documents, or the 1-based index of the document that does not parse.
    shape: Result<Shape, usize>,
    /// How to render without parsing, when the template qualifies.
    plan: Option<Plan>,
}

#[derive(Debug)]
struct Compiled {
    engine: mustache::Template,
    /// The names the tags use, by id.
    names: Vec<String>,
    /// The engine's data key for each name, by id.
    keys: Vec<String>,
    /// The neutral value standing for each non-empty value, by id.
    placeholders: Vec<String>,
    tokens: Tokens,
    required: Vec<Required>,
    /// Placeholder expectations, by which names have non-empty values.
    expectations: RwLock<HashMap<Vec<bool>, Arc<Expected>>>,
}

impl Template {
    /// Compiles mustache source. Syntax errors, partials (`{{> x}}`, refused without touching the
    /// disk), unbalanced sections and `{{.}}` outside a section are errors with line numbers.
    pub fn compile(source: &str) -> Result<Template, TemplateError> {
        let scanned = tags::scan(source)?;
        // The scanner refuses partials. Should one ever reach the engine, it could not read a
        // file either: no path can hold the NUL byte of this directory and extension.
        let context = mustache::Context {
            template_path: PathBuf::from("\0"),
            template_extension: "\0".to_owned(),
        };
        let engine = context
            .compile(scanned.source.chars())
            .map_err(|error| TemplateError::Engine(error.to_string()))?;
        let tokens = Tokens::for_source(source);
        let placeholders = (0..scanned.names.len())
            .map(|id| tokens.token(id))
            .collect();
        Ok(Template {
            inner: Arc::new(Compiled {
                engine,
                names: scanned.names,
                keys: scanned.keys,
                placeholders,
                tokens,
                required: scanned.required,
                expectations: RwLock::new(HashMap::new()),
            }),
        })
    }

    /// Whether a tag of the template (a variable or a section) names `name`.
    pub fn uses(&self, name: &str) -> bool {
        self.inner.names.iter().any(|used| used == name)
    }

    /// Renders with the context (attribute and built-in name -> value; where a name appears twice,
    /// the first wins) and checks the result as Kubernetes manifests for `namespace`.
    pub fn render(
        &self,
        context: &[(&str, &str)],
        namespace: &str,
    ) -> Result<Manifest, TemplateError> {
        let compiled = &*self.inner;
        let values = compiled.values(context)?;
        let filled: Vec<bool> = values
            .iter()
            .map(|value| value.is_some_and(|value| !value.is_empty()))
            .collect();
        let expected = compiled.expected(&filled)?;
        let (yaml, documents) = match compiled.render_fast(&values, &filled, &expected) {
            Some(rendered) => rendered,
            None => compiled.render_parsed(&values, &filled, &expected)?,
        };
        manifest::check(yaml, documents, namespace)
    }
}

impl Compiled {
    /// The context's value for each name, by id; every required variable must have one.
    fn values<'c>(
        &self,
        context: &[(&str, &'c str)],
    ) -> Result<Vec<Option<&'c str>>, TemplateError> {
        let values: Vec<Option<&str>> = self
            .names
            .iter()
            .map(|name| lookup(context, name))
            .collect();
        match self
            .required
            .iter()
            .find(|required| values[required.id].is_none())
        {
            Some(missing) => Err(undefined(&self.names[missing.id], missing.line, context)),
            None => Ok(values),
        }
    }

    /// The fast path: the plan's text and documents, when there is a plan and every value is
    /// inert.
    fn render_fast(
        &self,
        values: &[Option<&str>],
        filled: &[bool],
        expected: &Expected,
    ) -> Option<(String, Vec<Value>)> {
        let plan = expected.plan.as_ref()?;
        let inert = (0..values.len()).all(|id| !filled[id] || values[id].is_some_and(fast::inert));
        if !inert {
            return None;
        }
        plan.render(|id| values[id].unwrap_or_default())
    }

    /// The slow path: renders, parses, and compares the shape with the placeholder render's.
    fn render_parsed(
        &self,
        values: &[Option<&str>],
        filled: &[bool],
        expected: &Expected,
    ) -> Result<(String, Vec<Value>), TemplateError> {
        let yaml = self.fill(|id| values[id])?;
        let blame = || self.blame(values, filled, &expected.shape, yaml.len());
        match (manifest::parse(&yaml), &expected.shape) {
            (Ok(documents), Ok(shape)) => match shape.first_difference(&documents) {
                None => Ok((yaml, documents)),
                Some(position) => Err(TemplateError::StructureChanged {
                    document: manifest::describe_document(position + 1, documents.get(position)),
                    attribute: blame(),
                }),
            },
            (Ok(documents), Err(index)) => Err(TemplateError::StructureChanged {
                document: manifest::describe_document(*index, documents.get(index - 1)),
                attribute: blame(),
            }),
            (Err(error), Ok(_)) => Err(TemplateError::ValueBreaksYaml {
                document: error.document,
                attribute: blame(),
                message: error.message,
            }),
            (Err(error), Err(_)) => Err(TemplateError::YamlSyntax {
                document: error.document,
                message: error.message,
            }),
        }
    }

    /// Renders with `value(id)` for each name; empty values are left out of the data, so that
    /// they are false for `{{#x}}` and `{{^x}}` alike.
    fn fill<'v>(&self, value: impl Fn(usize) -> Option<&'v str>) -> Result<String, TemplateError> {
        let mut data = HashMap::with_capacity(self.keys.len());
        for (id, key) in self.keys.iter().enumerate() {
            if let Some(value) = value(id).filter(|value| !value.is_empty()) {
                data.insert(key.clone(), Data::String(value.to_owned()));
            }
        }
        self.engine
            .render_data_to_string(&Data::Map(data))
            .map_err(|error| TemplateError::Engine(error.to_string()))
    }

    /// Renders with a placeholder for every non-empty value.
    fn fill_placeholders(
        &self,
        filled: &[bool],
        except: Option<(usize, &str)>,
    ) -> Result<String, TemplateError> {
        self.fill(|id| match except {
            Some((except, value)) if except == id => Some(value),
            _ => filled[id].then(|| self.placeholders[id].as_str()),
        })
    }

    /// The placeholder shape and plan for this pattern of non-empty values, cached.
    fn expected(&self, filled: &[bool]) -> Result<Arc<Expected>, TemplateError> {
        let cached = self
            .expectations
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(filled)
            .cloned();
        if let Some(expected) = cached {
            return Ok(expected);
        }
        let yaml = self.fill_placeholders(filled, None)?;
        let expected = Arc::new(match manifest::parse(&yaml) {
            Ok(documents) => Expected {
                shape: Ok(Shape::of(&documents)),
                plan: self.plan(filled, &yaml, documents)?,
            },
            Err(error) => Expected {
                shape: Err(error.document),
                plan: None,
            },
        });
        let mut expectations = self
            .expectations
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if expectations.len() < MAX_CACHED_PATTERNS {
            expectations.insert(filled.to_vec(), Arc::clone(&expected));
        }
        Ok(expected)
    }

    /// The fast-path plan for a pattern, from its placeholder render: see [`Plan::new`].
    fn plan(
        &self,
        filled: &[bool],
        text: &str,
        documents: Vec<Value>,
    ) -> Result<Option<Plan>, TemplateError> {
        let probe_text = self.fill(|id| filled[id].then_some("0"))?;
        let Ok(probe_documents) = manifest::parse(&probe_text) else {
            return Ok(None);
        };
        Ok(Plan::new(
            &self.tokens,
            self.names.len(),
            text,
            documents,
            &probe_text,
            &probe_documents,
        ))
    }

    /// The attribute whose value alone (all others being placeholders) makes the render differ
    /// from the placeholder one, if there is one and finding it fits in [`BLAME_BUDGET`].
    fn blame(
        &self,
        values: &[Option<&str>],
        filled: &[bool],
        expected: &Result<Shape, usize>,
        rendered: usize,
    ) -> Option<String> {
        let candidates = filled.iter().filter(|filled| **filled).count();
        if candidates.saturating_mul(rendered) > BLAME_BUDGET {
            return None;
        }
        let blamed = (0..values.len()).find(|&id| {
            let Some(value) = values[id].filter(|_| filled[id]) else {
                return false;
            };
            let Ok(yaml) = self.fill_placeholders(filled, Some((id, value))) else {
                return false;
            };
            match (manifest::parse(&yaml), expected) {
                (Ok(documents), Ok(shape)) => shape.first_difference(&documents).is_some(),
                (Err(_), Err(_)) => false,
                _ => true,
            }
        });
        blamed.map(|id| self.names[id].clone())
    }
}

fn lookup<'c>(context: &[(&str, &'c str)], name: &str) -> Option<&'c str> {
    context
        .iter()
        .find(|(candidate, _)| *candidate == name)
        .map(|(_, value)| *value)
}

fn undefined(name: &str, line: usize, context: &[(&str, &str)]) -> TemplateError {
    let mut names: Vec<&str> = context.iter().map(|(name, _)| *name).collect();
    names.sort_unstable();
    names.dedup();
    let defined = match names.len() {
        0 => "nothing".to_owned(),
        count if count > MAX_LISTED_NAMES => format!(
            "{}, and {} more",
            names[..MAX_LISTED_NAMES].join(", "),
            count - MAX_LISTED_NAMES
        ),
        _ => names.join(", "),
    };
    TemplateError::UndefinedVariable {
        line,
        name: name.to_owned(),
        defined,
    }
}

#[cfg(test)]
mod tests;
