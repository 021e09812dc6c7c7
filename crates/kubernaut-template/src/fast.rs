//! A fast path for renders whose values cannot carry YAML syntax: it fills the values into the
//! cached parse of the placeholder render instead of parsing the rendered YAML again.
//!
//! Parsing YAML costs far more than rendering mustache, so a [`Plan`] is built once per pattern
//! of non-empty values, from two parsed renders: one with a token per value (`kubernaut0x`,
//! `kubernaut1x`, ...) and one probe with `0` for every value. The plan records the rendered text
//! around the values, and each scalar that holds values: as which parts, and whether it is plain
//! (its type is resolved from its text, like `replicas: 3`) or quoted (always a string). A plan is
//! only made when every token stands in a scalar value (not in a key, tag, comment, anchor or
//! directive), the template has no anchors or aliases, and filling `0` into the plan gives exactly
//! the probe's text and parsed documents.
//!
//! A render takes the fast path only when every non-empty value is *inert*: ASCII letters, digits
//! and `._-/:+=@%~`, starting and ending with a letter, a digit or `/` (which means nothing
//! anywhere in YAML, so URLs and paths such as `https://ci.example.com/job/42/` or `/healthz`
//! are inert). Such a value holds no whitespace, line break, quote, backslash, `#`, flow
//! indicator or leading indicator, and cannot end with `:`, so wherever a token can stand in a
//! scalar, the value stays inside that scalar and is taken literally. Everything else takes the slow path: a full parse and shape comparison.

use serde_yaml_ng::Value;

use crate::plain::resolve_plain;

/// Part of a rendered text or scalar: literal text, or the value of a name (by id).
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Value(usize),
}

/// How a scalar that holds values turns its text into a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// Resolved like a plain scalar: null, boolean, number or string.
    Plain,
    /// Always a string (quoted, block or `!!str` scalars).
    Quoted,
    /// Either; the render takes the slow path when the two would differ.
    Unknown,
}

/// A scalar that holds values.
#[derive(Debug, Clone, PartialEq)]
struct Slot {
    /// Its position among the value scalars of the documents, in pre-order.
    scalar: usize,
    parts: Vec<Piece>,
    style: Style,
}

/// How to render one pattern of non-empty values without parsing YAML.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pieces: Vec<Piece>,
    documents: Vec<Value>,
    slots: Vec<Slot>,
}

/// The tokens standing for values in the placeholder render: `{prefix}{id}x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tokens {
    prefix: String,
}

impl Tokens {
    /// Tokens with a prefix that `source` does not contain.
    pub(crate) fn for_source(source: &str) -> Self {
        let mut prefix = "kubernaut".to_owned();
        while source.contains(&prefix) {
            prefix.push('q');
        }
        Self { prefix }
    }

    /// The token for the name `id`: a plain YAML scalar wherever it stands.
    pub(crate) fn token(&self, id: usize) -> String {
        format!("{}{id}x", self.prefix)
    }

    /// Splits `text` at the tokens; `None` if the prefix stands anywhere but in a token of one
    /// of `names` names.
    fn split(&self, text: &str, names: usize) -> Option<Vec<Piece>> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find(&self.prefix) {
            let after = &rest[start + self.prefix.len()..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let id = after[..digits].parse().ok().filter(|id| *id < names)?;
            after[digits..].strip_prefix('x')?;
            if start > 0 {
                pieces.push(Piece::Text(rest[..start].to_owned()));
            }
            pieces.push(Piece::Value(id));
            rest = &after[digits + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        Some(pieces)
    }

    fn mentioned_in(&self, value: &Value) -> bool {
        match value {
            Value::String(text) => text.contains(&self.prefix),
            Value::Sequence(items) => items.iter().any(|item| self.mentioned_in(item)),
            Value::Mapping(entries) => entries
                .iter()
                .any(|(key, value)| self.mentioned_in(key) || self.mentioned_in(value)),
            Value::Tagged(tagged) => {
                tagged.tag.to_string().contains(&self.prefix) || self.mentioned_in(&tagged.value)
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
}

impl Plan {
    /// Builds the plan for `names` names from the token render (`text` and its `documents`) and
    /// the probe render with `0` for every value (`probe_text` and its `probe_documents`);
    /// `None` when the template does not qualify.
    pub(crate) fn new(
        tokens: &Tokens,
        names: usize,
        text: &str,
        documents: Vec<Value>,
        probe_text: &str,
        probe_documents: &[Value],
    ) -> Option<Plan> {
        if may_hold_anchor_or_alias(text) {
            return None;
        }
        let pieces = tokens.split(text, names)?;
        let mut placement = Placement {
            tokens,
            names,
            unplaced: vec![0; names],
            slots: Vec::new(),
            scalars: 0,
            placed: true,
        };
        for piece in &pieces {
            if let Piece::Value(id) = *piece {
                placement.unplaced[id] += 1;
            }
        }
        documents
            .iter()
            .for_each(|document| placement.node(document));
        if !placement.placed || placement.unplaced.iter().any(|count| *count > 0) {
            return None;
        }
        let mut plan = Plan {
            pieces,
            documents,
            slots: placement.slots,
        };
        if join(&plan.pieces, |_| "0") != probe_text {
            return None;
        }
        let probes = value_scalars(probe_documents);
        for slot in &mut plan.slots {
            let probe = join(&slot.parts, |_| "0");
            let plain = resolve_plain(&probe)?;
            let quoted = Value::String(probe);
            let found = *probes.get(slot.scalar)?;
            slot.style = match (*found == plain, *found == quoted) {
                (true, true) => Style::Unknown,
                (true, false) => Style::Plain,
                (false, true) => Style::Quoted,
                (false, false) => return None,
            };
        }
        let (_, predicted) = plan.render(|_| "0")?;
        (predicted == probe_documents).then_some(plan)
    }

    /// The rendered text and documents with `value(id)` for each value, or `None` when this
    /// render must take the slow path. Every value must be [`inert`].
    pub(crate) fn render<'v>(
        &self,
        value: impl Fn(usize) -> &'v str,
    ) -> Option<(String, Vec<Value>)> {
        let text = join(&self.pieces, &value);
        let mut documents = self.documents.clone();
        let mut slots = self.slots.iter().peekable();
        let mut scalars = 0;
        let mut resolved = true;
        for document in &mut documents {
            visit_mut(document, &mut |scalar| {
                let index = scalars;
                scalars += 1;
                let Some(slot) = slots.next_if(|slot| slot.scalar == index) else {
                    return;
                };
                let filled = join(&slot.parts, &value);
                let new = match slot.style {
                    Style::Quoted => Some(Value::String(filled)),
                    Style::Plain => resolve_plain(&filled),
                    Style::Unknown => resolve_plain(&filled).filter(Value::is_string),
                };
                match new {
                    Some(new) => *scalar = new,
                    None => resolved = false,
                }
            });
        }
        resolved.then_some((text, documents))
    }
}

/// Whether a value is inert: see the module documentation.
pub(crate) fn inert(value: &str) -> bool {
    let bytes = value.as_bytes();
    let edge = |b: &u8| b.is_ascii_alphanumeric() || *b == b'/';
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            edge(first)
                && edge(last)
                && bytes.iter().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(
                            b,
                            b'.' | b'_' | b'-' | b'/' | b':' | b'+' | b'=' | b'@' | b'%' | b'~'
                        )
                })
        }
        _ => false,
    }
}

/// Whether `text` may hold a YAML anchor (`&a`) or alias (`*a`): a `&` or `*` that does not
/// follow a letter, digit or `._/=+%` (conservative: it also matches some that are plain text).
fn may_hold_anchor_or_alias(text: &str) -> bool {
    let mut previous = None;
    for byte in text.bytes() {
        if matches!(byte, b'&' | b'*')
            && !previous.is_some_and(|p: u8| {
                p.is_ascii_alphanumeric() || matches!(p, b'.' | b'_' | b'/' | b'=' | b'+' | b'%')
            })
        {
            return true;
        }
        previous = Some(byte);
    }
    false
}

fn join<'v>(pieces: &[Piece], value: impl Fn(usize) -> &'v str) -> String {
    let mut joined = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => joined.push_str(text),
            Piece::Value(id) => joined.push_str(value(*id)),
        }
    }
    joined
}

/// Finds where the tokens of a token render stand.
struct Placement<'t> {
    tokens: &'t Tokens,
    names: usize,
    /// Per id, how many of its tokens in the text are not yet found in a scalar value.
    unplaced: Vec<usize>,
    slots: Vec<Slot>,
    /// How many scalar values came so far, in pre-order.
    scalars: usize,
    /// False once a token stands anywhere but in a scalar value.
    placed: bool,
}

impl Placement<'_> {
    fn node(&mut self, value: &Value) {
        match value {
            Value::Sequence(items) => items.iter().for_each(|item| self.node(item)),
            Value::Mapping(entries) => {
                for (key, value) in entries {
                    self.placed &= !self.tokens.mentioned_in(key);
                    self.node(value);
                }
            }
            Value::Tagged(tagged) => {
                self.placed &= !tagged.tag.to_string().contains(&self.tokens.prefix);
                self.node(&tagged.value);
            }
            Value::String(scalar) if scalar.contains(&self.tokens.prefix) => {
                match self.tokens.split(scalar, self.names) {
                    Some(parts) => {
                        for part in &parts {
                            if let Piece::Value(id) = *part {
                                match &mut self.unplaced[id] {
                                    0 => self.placed = false,
                                    count => *count -= 1,
                                }
                            }
                        }
                        self.slots.push(Slot {
                            scalar: self.scalars,
                            parts,
                            style: Style::Unknown,
                        });
                    }
                    None => self.placed = false,
                }
                self.scalars += 1;
            }
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => self.scalars += 1,
        }
    }
}

/// Calls `f` on every scalar value (outside mapping keys), in pre-order.
fn visit_mut(value: &mut Value, f: &mut impl FnMut(&mut Value)) {
    match value {
        Value::Sequence(items) => items.iter_mut().for_each(|item| visit_mut(item, f)),
        Value::Mapping(entries) => entries.values_mut().for_each(|value| visit_mut(value, f)),
        Value::Tagged(tagged) => visit_mut(&mut tagged.value, f),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => f(value),
    }
}

/// The scalar values (outside mapping keys), in pre-order.
fn value_scalars(documents: &[Value]) -> Vec<&Value> {
    fn collect<'a>(value: &'a Value, scalars: &mut Vec<&'a Value>) {
        match value {
            Value::Sequence(items) => items.iter().for_each(|item| collect(item, scalars)),
            Value::Mapping(entries) => entries.values().for_each(|value| collect(value, scalars)),
            Value::Tagged(tagged) => collect(&tagged.value, scalars),
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
                scalars.push(value)
            }
        }
    }
    let mut scalars = Vec::new();
    documents
        .iter()
        .for_each(|document| collect(document, &mut scalars));
    scalars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inert_values_cannot_carry_yaml_syntax() {
        for value in [
            "nginx",
            "registry.example.com/hello-world:42",
            "1.2.3-rc.1+build.5",
            "3",
            "true",
            "https://example.com/a/b%20c",
            "user@example.com",
            "a~b",
            "https://ci.example.com/job/hello-world/42/",
            "/healthz",
            "/",
        ] {
            assert!(inert(value), "{value:?}");
        }
        for value in [
            "", "a b", "a\nb", "a:", ":a", "-a", ".5", "a-", "*a", "&a", "!a", "a#b", "a,b", "[a]",
            "{a}", "a\"b", "a'b", "a\\b", "é", "a\tb", "a|b", "a>b", "a?", "?a", "%a", "@a",
        ] {
            assert!(!inert(value), "{value:?}");
        }
    }

    #[test]
    fn anchors_and_aliases_are_spotted_conservatively() {
        for text in [
            "a: &x 1",
            "b: *x",
            "- *x",
            "[*x]",
            "{a: *x}",
            "&x",
            "a: \"*.example.com\"",
        ] {
            assert!(may_hold_anchor_or_alias(text), "{text:?}");
        }
        for text in ["a: b", "url: a?b=1&c=2", "glob: a/*.yaml", "math: 2*3"] {
            assert!(!may_hold_anchor_or_alias(text), "{text:?}");
        }
    }

    #[test]
    fn tokens_are_split_out_of_text() {
        let tokens = Tokens::for_source("a kubernaut b kubernautq");
        assert_eq!(tokens.token(3), "kubernautqq3x");
        let plain = Tokens::for_source("");
        assert_eq!(
            plain.split("a kubernaut0x-kubernaut12xkubernaut0x", 13),
            Some(vec![
                Piece::Text("a ".to_owned()),
                Piece::Value(0),
                Piece::Text("-".to_owned()),
                Piece::Value(12),
                Piece::Value(0),
            ])
        );
        for broken in [
            "kubernaut",
            "kubernautx",
            "kubernaut1",
            "kubernaut13x",
            "kubernaut99999999999999999999999x",
        ] {
            assert_eq!(plain.split(broken, 13), None, "{broken:?}");
        }
    }
}
