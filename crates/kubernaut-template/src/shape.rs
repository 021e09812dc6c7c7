//! The structure of parsed YAML documents, regardless of their scalar values.
//!
//! Two renders of a template have the same shape when they have as many documents and, node by
//! node, the same collections: mappings with as many entries (keys and values of the same shapes,
//! in the same order), sequences with as many items, and tagged values in the same places. Any
//! scalar (string, number, boolean or null) is a leaf, so `replicas: 3` and `replicas: x` agree.

use serde_yaml_ng::Value;

/// One node of a shape, in pre-order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Leaf,
    Sequence(usize),
    Mapping(usize),
    Tagged,
}

/// The shape of a stream of YAML documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shape {
    documents: usize,
    nodes: Vec<Node>,
}

impl Shape {
    /// The shape of `documents`.
    pub(crate) fn of(documents: &[Value]) -> Self {
        let mut nodes = Vec::new();
        for document in documents {
            push(document, &mut nodes);
        }
        Self {
            documents: documents.len(),
            nodes,
        }
    }

    /// The 0-based index of the first of `documents` whose shape differs from this one's, or of
    /// the first one missing or extra; `None` when all agree.
    pub(crate) fn first_difference(&self, documents: &[Value]) -> Option<usize> {
        let mut nodes = self.nodes.iter();
        for (index, document) in documents.iter().enumerate() {
            if index == self.documents || !matches(document, &mut nodes) {
                return Some(index);
            }
        }
        (documents.len() < self.documents).then_some(documents.len())
    }
}

fn push(value: &Value, nodes: &mut Vec<Node>) {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            nodes.push(Node::Leaf)
        }
        Value::Sequence(items) => {
            nodes.push(Node::Sequence(items.len()));
            for item in items {
                push(item, nodes);
            }
        }
        Value::Mapping(entries) => {
            nodes.push(Node::Mapping(entries.len()));
            for (key, value) in entries {
                push(key, nodes);
                push(value, nodes);
            }
        }
        Value::Tagged(tagged) => {
            nodes.push(Node::Tagged);
            push(&tagged.value, nodes);
        }
    }
}

/// Whether `value` has the shape that `nodes` continues with (consuming it).
fn matches<'a>(value: &Value, nodes: &mut impl Iterator<Item = &'a Node>) -> bool {
    let Some(&node) = nodes.next() else {
        return false;
    };
    match (value, node) {
        (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_), Node::Leaf) => true,
        (Value::Sequence(items), Node::Sequence(len)) => {
            items.len() == len && items.iter().all(|item| matches(item, nodes))
        }
        (Value::Mapping(entries), Node::Mapping(len)) => {
            entries.len() == len
                && entries
                    .iter()
                    .all(|(key, value)| matches(key, nodes) && matches(value, nodes))
        }
        (Value::Tagged(tagged), Node::Tagged) => matches(&tagged.value, nodes),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse;

    fn shape(yaml: &str) -> Shape {
        Shape::of(&parse(yaml).unwrap())
    }

    fn difference(expected: &str, actual: &str) -> Option<usize> {
        shape(expected).first_difference(&parse(actual).unwrap())
    }

    #[test]
    fn scalars_of_any_type_are_leaves() {
        assert_eq!(
            difference("a: x\nb: y\nc: z\nd: w", "a: 3\nb: true\nc: ~\nd: 'q'"),
            None
        );
        assert_eq!(difference("- x", "- 1.5"), None);
    }

    #[test]
    fn collections_must_agree_in_kind_size_and_order() {
        assert_eq!(difference("a: x", "a: {b: c}"), Some(0));
        assert_eq!(difference("a: x", "a: [1]"), Some(0));
        assert_eq!(difference("a: x", "a: x\nb: y"), Some(0));
        assert_eq!(difference("[a, b]", "[a, b, c]"), Some(0));
        assert_eq!(difference("{a: x}: y", "a: y"), Some(0));
        assert_eq!(difference("a: x\nb: [1]", "a: [1]\nb: x"), Some(0));
        assert_eq!(difference("a: x", "a: !Secret x"), Some(0));
        assert_eq!(difference("a: !Foo x", "a: !Bar y"), None);
    }

    #[test]
    fn documents_are_compared_in_order_and_counted() {
        assert_eq!(difference("a: x\n---\nb: y", "a: z\n---\nb: [w]"), Some(1));
        assert_eq!(difference("a: x", "a: x\n---\nb: y"), Some(1));
        assert_eq!(difference("a: x\n---\nb: y", "a: x"), Some(1));
        assert_eq!(difference("a: x\n---\n", "a: x\n---\n"), None);
    }
}
