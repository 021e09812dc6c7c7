//! A scanner that tokenizes mustache source exactly as the `mustache` crate's parser does, checks
//! the tags, and rewrites them for the engine.
//!
//! The scanner follows the engine's state machine character by character (opening delimiter,
//! tag content, `{`-braced content, closing delimiter, set-delimiter tags), so both see the same
//! tags at the same places. It then rewrites the tags in place, under the delimiters in force:
//!
//! - every variable tag (`{{x}}`, `{{{x}}}`, `{{& x}}`) becomes the unescaped `{{{id}}}`, so that
//!   nothing is HTML-escaped;
//! - every name becomes a short identifier without dots, so that `{{build.number}}` looks up the
//!   context name `build.number` rather than a path into nested data;
//! - comments and set-delimiter tags stay as written; partials are refused.
//!
//! Text between tags is copied unchanged and every tag keeps its kind, so the engine tokenizes
//! the rewritten source exactly as the original (including its handling of standalone lines).

use std::collections::HashMap;

use crate::error::{TemplateError, shorten};

/// A template's tags, checked and rewritten for the engine.
#[derive(Debug)]
pub(crate) struct Scanned {
    /// The rewritten source.
    pub(crate) source: String,
    /// The distinct names the tags use (variables and sections), in order of first use; a name's
    /// index is its id.
    pub(crate) names: Vec<String>,
    /// The engine's key for each name, by id.
    pub(crate) keys: Vec<String>,
    /// The variables the context must define: each name's first use outside a section on itself.
    pub(crate) required: Vec<Required>,
}

/// A variable that must be defined, and where it is first used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Required {
    /// The name's id.
    pub(crate) id: usize,
    /// The template line of its first unguarded use.
    pub(crate) line: usize,
}

/// How deeply sections may nest (the engine renders them recursively).
pub(crate) const MAX_DEPTH: usize = 64;

/// Scans, checks and rewrites `source`.
pub(crate) fn scan(source: &str) -> Result<Scanned, TemplateError> {
    let mut scanner = Scanner::new(source);
    scanner.run()?;
    Ok(scanner.finish())
}

/// A name in a tag: an id, or `.` (the current section value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    Id(usize),
    Implicit,
}

#[derive(Debug, Clone, Copy)]
enum Rewrite {
    Variable(Name),
    Open { name: Name, inverted: bool },
    Close(Name),
}

/// A tag to rewrite, with the delimiters in force where it stands.
#[derive(Debug)]
struct Tag<'a> {
    start: usize,
    end: usize,
    open: &'a str,
    close: &'a str,
    rewrite: Rewrite,
}

/// An open section.
#[derive(Debug)]
struct Section<'a> {
    name: Name,
    inverted: bool,
    line: usize,
    tag: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    OpeningTag,
    Tag,
    ClosingTag,
}

/// Where the tag being read starts and ends.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    line: usize,
    content_start: usize,
    content_end: usize,
    end: usize,
}

struct Scanner<'a> {
    source: &'a str,
    open: &'a str,
    close: &'a str,
    open_chars: Vec<char>,
    close_chars: Vec<char>,
    ids: HashMap<&'a str, usize>,
    /// Per id: the name, whether it is already required, and how many open (non-inverted)
    /// sections on it enclose the current position.
    names: Vec<NameInfo<'a>>,
    required: Vec<Required>,
    sections: Vec<Section<'a>>,
    /// How many open sections are not inverted (`.` needs one).
    open_non_inverted: usize,
    tags: Vec<Tag<'a>>,
    /// The first character of every closing delimiter used: identifiers must avoid them.
    closing_starts: Vec<char>,
}

#[derive(Debug)]
struct NameInfo<'a> {
    name: &'a str,
    required: bool,
    guards: usize,
}

impl<'a> Scanner<'a> {
    fn new(source: &'a str) -> Self {
        Self {
            source,
            open: "{{",
            close: "}}",
            open_chars: vec!['{', '{'],
            close_chars: vec!['}', '}'],
            ids: HashMap::new(),
            names: Vec::new(),
            required: Vec::new(),
            sections: Vec::new(),
            open_non_inverted: 0,
            tags: Vec::new(),
            closing_starts: vec!['}'],
        }
    }

    /// The engine's parser loop (`mustache::parser::Parser::parse`), tracking spans and lines.
    fn run(&mut self) -> Result<(), TemplateError> {
        let source = self.source;
        let mut state = State::Text;
        let mut line = 1;
        let mut position = 0;
        let mut braced = false;
        let mut span = Span {
            start: 0,
            line: 1,
            content_start: 0,
            content_end: 0,
            end: 0,
        };
        for (i, ch) in source.char_indices() {
            let next = i + ch.len_utf8();
            match state {
                State::Text => {
                    if ch == self.open_chars[0] {
                        span.start = i;
                        span.line = line;
                        if self.open_chars.len() > 1 {
                            position = 1;
                            state = State::OpeningTag;
                        } else {
                            span.content_start = next;
                            braced = false;
                            state = State::Tag;
                        }
                    }
                }
                State::OpeningTag => {
                    if ch != self.open_chars[position] {
                        // Like the engine, the mismatching character is text, even if it could
                        // start a delimiter.
                        state = State::Text;
                    } else if position == self.open_chars.len() - 1 {
                        span.content_start = next;
                        braced = false;
                        state = State::Tag;
                    } else {
                        position += 1;
                    }
                }
                State::Tag => {
                    if i == span.content_start && ch == '{' {
                        braced = true;
                    } else if braced && ch == '}' {
                        braced = false;
                    } else if ch == self.close_chars[0] {
                        span.content_end = i;
                        if self.close_chars.len() > 1 {
                            state = State::ClosingTag;
                        } else {
                            span.end = next;
                            self.tag(span)?;
                            state = State::Text;
                        }
                    }
                }
                State::ClosingTag => {
                    // Closing delimiters have at most two characters: this is the second.
                    if ch != self.close_chars[1] {
                        return Err(TemplateError::BadClosingTag {
                            line: span.line,
                            tag: shorten(&source[span.start..next]),
                            close: self.close.to_owned(),
                            found: ch,
                            expected: self.close_chars[1],
                        });
                    }
                    span.end = next;
                    self.tag(span)?;
                    state = State::Text;
                }
            }
            if ch == '\n' {
                line += 1;
            }
        }
        if matches!(state, State::Tag | State::ClosingTag) {
            // The engine turns an unfinished closing delimiter at the end into text; refuse both.
            let rest = &source[span.start..];
            return Err(TemplateError::UnclosedTag {
                line: span.line,
                tag: shorten(rest.lines().next().unwrap_or(rest)),
                close: self.close.to_owned(),
            });
        }
        match self.sections.last() {
            Some(section) => Err(TemplateError::UnclosedSection {
                line: section.line,
                tag: shorten(section.tag),
            }),
            None => Ok(()),
        }
    }

    /// Checks a complete tag (`mustache::parser::Parser::add_tag`).
    fn tag(&mut self, span: Span) -> Result<(), TemplateError> {
        let source = self.source;
        let tag = &source[span.start..span.end];
        let content = &source[span.content_start..span.content_end];
        let line = span.line;
        let empty = || TemplateError::EmptyTag {
            line,
            tag: shorten(tag),
        };
        if content.trim().is_empty() {
            return Err(empty());
        }
        // What follows a one-byte sigil (only used when the first byte is one).
        let rest = content.get(1..).unwrap_or_default();
        let rewrite = match content.as_bytes()[0] {
            b'!' => return Ok(()),
            b'=' => return self.set_delimiters(content, line, tag),
            b'>' => {
                return Err(TemplateError::Partial {
                    line,
                    tag: shorten(tag),
                });
            }
            b'{' => {
                let Some(inner) = rest.strip_suffix('}') else {
                    return Err(TemplateError::UnbalancedBrace {
                        line,
                        tag: shorten(tag),
                    });
                };
                let name = tag_name(inner).ok_or_else(empty)?;
                Rewrite::Variable(self.variable(name, line, tag)?)
            }
            b'&' => {
                let name = tag_name(rest).ok_or_else(empty)?;
                Rewrite::Variable(self.variable(name, line, tag)?)
            }
            sigil @ (b'#' | b'^') => {
                let name = tag_name(rest).ok_or_else(empty)?;
                self.open_section(name, sigil == b'^', line, tag)?
            }
            b'/' => {
                let name = tag_name(rest).ok_or_else(empty)?;
                Rewrite::Close(self.close_section(name, line, tag)?)
            }
            _ => {
                let name = tag_name(content).ok_or_else(empty)?;
                Rewrite::Variable(self.variable(name, line, tag)?)
            }
        };
        self.tags.push(Tag {
            start: span.start,
            end: span.end,
            open: self.open,
            close: self.close,
            rewrite,
        });
        Ok(())
    }

    /// A name's id, or `.`, which needs an enclosing (non-inverted) section for its value.
    fn name(&mut self, name: &'a str, line: usize, tag: &str) -> Result<Name, TemplateError> {
        if name == "." {
            if self.open_non_inverted > 0 {
                return Ok(Name::Implicit);
            }
            return Err(TemplateError::ImplicitOutsideSection {
                line,
                tag: shorten(tag),
            });
        }
        let next = self.names.len();
        let id = *self.ids.entry(name).or_insert(next);
        if id == next {
            self.names.push(NameInfo {
                name,
                required: false,
                guards: 0,
            });
        }
        Ok(Name::Id(id))
    }

    /// A variable: unless a section on its own name encloses it, the context must define it.
    fn variable(&mut self, name: &'a str, line: usize, tag: &str) -> Result<Name, TemplateError> {
        let name = self.name(name, line, tag)?;
        if let Name::Id(id) = name {
            let info = &mut self.names[id];
            if info.guards == 0 && !info.required {
                info.required = true;
                self.required.push(Required { id, line });
            }
        }
        Ok(name)
    }

    fn open_section(
        &mut self,
        name: &'a str,
        inverted: bool,
        line: usize,
        tag: &'a str,
    ) -> Result<Rewrite, TemplateError> {
        if self.sections.len() == MAX_DEPTH {
            return Err(TemplateError::TooDeep {
                line,
                tag: shorten(tag),
                max: MAX_DEPTH,
            });
        }
        let name = self.name(name, line, tag)?;
        if !inverted {
            self.open_non_inverted += 1;
            if let Name::Id(id) = name {
                self.names[id].guards += 1;
            }
        }
        self.sections.push(Section {
            name,
            inverted,
            line,
            tag,
        });
        Ok(Rewrite::Open { name, inverted })
    }

    fn close_section(&mut self, name: &str, line: usize, tag: &str) -> Result<Name, TemplateError> {
        let Some(open) = self.sections.pop() else {
            return Err(TemplateError::UnopenedSection {
                line,
                tag: shorten(tag),
            });
        };
        let open_name = match open.name {
            Name::Implicit => ".",
            Name::Id(id) => self.names[id].name,
        };
        if open_name != name {
            return Err(TemplateError::MismatchedSection {
                line,
                tag: shorten(tag),
                open_tag: shorten(open.tag),
                open_line: open.line,
            });
        }
        if !open.inverted {
            self.open_non_inverted -= 1;
            if let Name::Id(id) = open.name {
                self.names[id].guards -= 1;
            }
        }
        Ok(open.name)
    }

    /// A set-delimiter tag such as `{{=<% %>=}}`: two delimiters separated by whitespace, the
    /// closing one at most two characters long (the engine cannot close tags with longer ones).
    fn set_delimiters(
        &mut self,
        content: &'a str,
        line: usize,
        tag: &str,
    ) -> Result<(), TemplateError> {
        let invalid = || TemplateError::InvalidDelimiters {
            line,
            tag: shorten(tag),
        };
        if content.len() <= 2 || !content.ends_with('=') {
            return Err(invalid());
        }
        let mut parts = content[1..content.len() - 1].split_whitespace();
        let (Some(open), Some(close), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        if close.chars().count() > 2 {
            return Err(invalid());
        }
        self.open = open;
        self.close = close;
        self.open_chars = open.chars().collect();
        self.close_chars = close.chars().collect();
        self.closing_starts.extend(close.chars().next());
        Ok(())
    }

    /// Rewrites the source for the engine.
    fn finish(self) -> Scanned {
        let keys = keys(self.names.len(), &self.closing_starts);
        let mut source = String::with_capacity(self.source.len() + 8 * self.tags.len());
        let mut copied = 0;
        for tag in &self.tags {
            source.push_str(&self.source[copied..tag.start]);
            source.push_str(tag.open);
            let (sigil, name, end) = match tag.rewrite {
                Rewrite::Variable(name) => ("{", name, "}"),
                Rewrite::Open { name, inverted } => (if inverted { "^" } else { "#" }, name, ""),
                Rewrite::Close(name) => ("/", name, ""),
            };
            source.push_str(sigil);
            source.push_str(match name {
                Name::Id(id) => &keys[id],
                Name::Implicit => ".",
            });
            source.push_str(end);
            source.push_str(tag.close);
            copied = tag.end;
        }
        source.push_str(&self.source[copied..]);
        Scanned {
            source,
            names: self.names.iter().map(|info| info.name.to_owned()).collect(),
            keys,
            required: self.required,
        }
    }
}

/// The trimmed name in a tag's content, if any (`mustache::parser::get_name_or_implicit`).
fn tag_name(content: &str) -> Option<&str> {
    Some(content.trim()).filter(|name| !name.is_empty())
}

/// The engine's keys for `count` names: short identifiers of alphanumeric characters other than
/// any closing delimiter's first character, so that a rewritten tag always closes where it ends.
fn keys(count: usize, closing_starts: &[char]) -> Vec<String> {
    let alphabet: Vec<char> = ('0'..=char::MAX)
        .filter(|c| c.is_alphanumeric() && !closing_starts.contains(c))
        .take(32)
        .collect();
    let base = alphabet.len();
    (0..count)
        .map(|mut n| {
            let mut key = Vec::new();
            loop {
                key.push(alphabet[n % base]);
                n /= base;
                if n == 0 {
                    break key.into_iter().rev().collect();
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(source: &str) -> String {
        scan(source).unwrap().source
    }

    fn error(source: &str) -> String {
        scan(source).unwrap_err().to_string()
    }

    #[test]
    fn variable_tags_become_unescaped_tags_on_short_keys() {
        assert_eq!(
            rewritten("a: {{x}} {{ x }} {{{x}}} {{& x}} {{y}}"),
            "a: {{{0}}} {{{0}}} {{{0}}} {{{0}}} {{{1}}}"
        );
        let scanned = scan("{{build.number}} {{a}} {{a.b}}").unwrap();
        assert_eq!(scanned.source, "{{{0}}} {{{1}}} {{{2}}}");
        assert_eq!(scanned.names, ["build.number", "a", "a.b"]);
        assert_eq!(scanned.keys, ["0", "1", "2"]);
    }

    #[test]
    fn sections_comments_and_text_keep_their_form() {
        assert_eq!(
            rewritten("{{! note }}\n{{#a}}\n{{.}}{{^ b }}-{{/ b }}\n{{/a}}\n{text}} }}"),
            "{{! note }}\n{{#0}}\n{{{.}}}{{^1}}-{{/1}}\n{{/0}}\n{text}} }}"
        );
    }

    #[test]
    fn set_delimiters_are_followed_and_kept() {
        assert_eq!(
            rewritten("{{=<% %>=}}<%x%> {{y}} <%={{ }}=%>{{z}}"),
            "{{=<% %>=}}<%{0}%> {{y}} <%={{ }}=%>{{{1}}}"
        );
        assert_eq!(rewritten("{{=| |=}}|x|"), "{{=| |=}}|{0}|");
        // As in the engine, the character that breaks a partial opening delimiter is text.
        assert_eq!(rewritten("{{=<% %>=}}<<%x%>"), "{{=<% %>=}}<<%x%>");
    }

    #[test]
    fn keys_avoid_the_first_character_of_closing_delimiters() {
        let scanned = scan("{{=<% 0>=}}<%a0><%b0>").unwrap();
        assert_eq!(scanned.keys, ["1", "2"]);
        assert_eq!(scanned.source, "{{=<% 0>=}}<%{1}0><%{2}0>");
        let many = scan(&(0..40).map(|i| format!("{{{{v{i}}}}}")).collect::<String>()).unwrap();
        assert_eq!(many.keys[31], "V");
        assert_eq!(many.keys[32], "10");
    }

    #[test]
    fn a_sigil_after_whitespace_is_part_of_a_variable_name() {
        let scanned = scan("{{ #a }}").unwrap();
        assert_eq!(scanned.names, ["#a"]);
        assert_eq!(scanned.source, "{{{0}}}");
    }

    #[test]
    fn variables_are_required_unless_guarded_by_their_own_section() {
        let scanned = scan(
            "{{a}}\n{{#b}}{{b}}{{/b}}\n{{^c}}{{c}}{{/c}}\n{{#d}}{{e}}{{#f}}{{d}}{{/f}}{{/d}}\n{{a}}{{d}}",
        )
        .unwrap();
        assert_eq!(scanned.names, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(
            scanned.required,
            [
                Required { id: 0, line: 1 },
                Required { id: 2, line: 3 },
                Required { id: 4, line: 4 },
                Required { id: 3, line: 5 },
            ]
        );
    }

    #[test]
    fn tag_syntax_errors_name_the_line_and_tag() {
        assert_eq!(
            error("a\nb {{image\nc"),
            "template line 2: the tag starting `{{image` is not closed with `}}`"
        );
        assert_eq!(
            error("{{x}"),
            "template line 1: the tag starting `{{x}` is not closed with `}}`"
        );
        assert_eq!(
            error("\n{{a}b}}"),
            "template line 2: in the tag `{{a}b`, 'b' breaks the closing delimiter `}}` \
             (expected '}')"
        );
        assert_eq!(
            error("x\n\n{{ }}"),
            "template line 3: the tag `{{ }}` names nothing"
        );
        for empty in ["{{}}", "{{#}}", "{{^ }}", "{{/}}", "{{&}}", "{{{ }}}"] {
            assert!(
                matches!(scan(empty), Err(TemplateError::EmptyTag { line: 1, .. })),
                "{empty}"
            );
        }
        assert_eq!(
            error("{{{x}y}}"),
            "template line 1: the tag `{{{x}y}}` opens with `{` but does not end with `}`"
        );
        assert_eq!(
            error("{{=<% %>=}}<%{x%>"),
            "template line 1: the tag `<%{x%>` opens with `{` but does not end with `}`"
        );
    }

    #[test]
    fn malformed_or_unsupported_delimiters_are_refused() {
        assert_eq!(
            error("{{=<%=}}"),
            "template line 1: the set-delimiter tag `{{=<%=}}` is invalid: write it as \
             `{{=OPEN CLOSE=}}`, with a closing delimiter of one or two characters"
        );
        for invalid in [
            "{{=<% %>}}",
            "{{==}}",
            "{{= =}}",
            "{{=a b c=}}",
            "{{=<% %%>=}}",
        ] {
            assert!(
                matches!(scan(invalid), Err(TemplateError::InvalidDelimiters { .. })),
                "{invalid}"
            );
        }
    }

    #[test]
    fn partials_are_refused() {
        assert_eq!(
            error("a: 1\n{{> secrets}}"),
            "template line 2: the partial `{{> secrets}}` is not supported: a template must be \
             self-contained"
        );
        assert!(matches!(scan("{{>x}}"), Err(TemplateError::Partial { .. })));
        assert!(matches!(
            scan("{{=<% %>=}}<%>x%>"),
            Err(TemplateError::Partial { .. })
        ));
        assert!(scan("{{! {{> x }}").is_ok());
    }

    #[test]
    fn sections_must_balance() {
        assert_eq!(
            error("a\n{{#image}}\nb"),
            "template line 2: the section `{{#image}}` is never closed"
        );
        assert_eq!(
            error("{{#a}}{{^b}}{{/b}}"),
            "template line 1: the section `{{#a}}` is never closed"
        );
        assert_eq!(
            error("\n{{/a}}"),
            "template line 2: `{{/a}}` closes a section that is not open"
        );
        assert_eq!(
            error("{{#a}}\n{{#b}}\n{{/a}}"),
            "template line 3: `{{/a}}` does not close the innermost open section `{{#b}}` (line 2)"
        );
        assert!(scan("{{#a}}{{/ a }}{{#.}}").is_err());
    }

    #[test]
    fn nesting_is_limited() {
        let nested = |depth: usize| format!("{}{}", "{{#a}}".repeat(depth), "{{/a}}".repeat(depth));
        assert!(scan(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(
            error(&nested(MAX_DEPTH + 1)),
            "template line 1: the section `{{#a}}` is nested more than 64 sections deep"
        );
    }

    #[test]
    fn the_current_value_needs_an_enclosing_section() {
        assert_eq!(
            error("a\n{{.}}"),
            "template line 2: `{{.}}` names the current section value, so it may only stand \
             inside a `{{#section}}`"
        );
        for outside in [
            "{{^a}}{{.}}{{/a}}",
            "{{#.}}{{/.}}",
            "{{{.}}}",
            "{{#a}}{{/a}}{{.}}",
        ] {
            assert!(
                matches!(
                    scan(outside),
                    Err(TemplateError::ImplicitOutsideSection { .. })
                ),
                "{outside}"
            );
        }
        assert_eq!(
            rewritten("{{#a}}{{^b}}{{ . }}{{#.}}{{.}}{{/.}}{{/b}}{{/a}}"),
            "{{#0}}{{^1}}{{{.}}}{{#.}}{{{.}}}{{/.}}{{/1}}{{/0}}"
        );
    }

    #[test]
    fn long_tags_are_shortened_in_messages() {
        let message = error(&format!("{{{{#{}}}}}", "x".repeat(1000)));
        assert!(message.len() < 200, "{message}");
    }
}
