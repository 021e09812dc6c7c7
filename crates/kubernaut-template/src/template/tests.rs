use std::collections::HashMap;

use serde_yaml_ng::Value;

use super::*;
use crate::render;

const HEAD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n";

/// The raw text `source` renders to (no YAML checks).
fn text(source: &str, context: &[(&str, &str)]) -> String {
    let template = Template::compile(source).unwrap();
    let values: Vec<Option<&str>> = template
        .inner
        .names
        .iter()
        .map(|name| lookup(context, name))
        .collect();
    template.inner.fill(|id| values[id]).unwrap()
}

/// Renders `data` (lines under `data:` of a ConfigMap) and returns its `data` mapping.
fn data(lines: &str, context: &[(&str, &str)]) -> Value {
    let manifest = render(&format!("{HEAD}{lines}"), context, "default").unwrap();
    manifest.documents[0].value["data"].clone()
}

fn error(source: &str, context: &[(&str, &str)]) -> TemplateError {
    render(source, context, "default").unwrap_err()
}

#[test]
fn no_variable_form_is_html_escaped() {
    let value = "a<b>&\"c'd";
    assert_eq!(
        text("{{x}}|{{{x}}}|{{& x}}|{{ x }}", &[("x", value)]),
        format!("{value}|{value}|{value}|{value}")
    );
    let values = data(
        "  plain: {{x}}\n  triple: {{{x}}}\n  amp: {{&x}}\n  block: |\n    {{x}}\n",
        &[("x", "<b>&amp;\"q\"'")],
    );
    for key in ["plain", "triple", "amp"] {
        assert_eq!(values[key].as_str(), Some("<b>&amp;\"q\"'"), "{key}");
    }
    assert_eq!(values["block"].as_str(), Some("<b>&amp;\"q\"'\n"));
}

#[test]
fn rendering_matches_mustache_for_unescaped_values() {
    let values = [("a", "1"), ("b", "two"), ("s", "yes"), ("e", "")];
    let sources = [
        "x {{{a}}} y\n",
        "list:\n  {{#s}}\n  - {{{b}}}\n  {{/s}}\n  {{^e}}\n  - none\n  {{/e}}\nend\n",
        "  {{! standalone comment }}\nnext\n{{=<% %>=}}\n<%{a}%> {{b}}\n  <%#s%>\n  in\n  <%/s%>\n",
        "{{#s}}[{{{.}}}]{{/s}}{{#missing}}never{{/missing}}{{^missing}}shown{{/missing}}\r\n",
    ];
    let map: HashMap<&str, &str> = values
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    for source in sources {
        let expected = mustache::compile_str(source)
            .unwrap()
            .render_to_string(&map)
            .unwrap();
        assert_eq!(text(source, &values), expected, "{source:?}");
    }
}

#[test]
fn undefined_variables_are_errors_naming_them() {
    let context = [
        ("image", "nginx"),
        ("service", "web"),
        ("namespace", "default"),
        ("version", "1"),
    ];
    let source = format!("{HEAD}  a: x\n  b: x\n  image: {{{{imgae}}}}\n");
    assert_eq!(
        error(&source, &context).to_string(),
        "template line 8: variable `imgae` is not defined: give the release an attribute imgae \
         (--attr imgae=VALUE in the CLI, an \"attributes\" entry in JSON) or put the tag inside \
         {{#imgae}}...{{/imgae}}; defined: image, namespace, service, version"
    );
    for guarded_elsewhere in [
        "{{^x}}{{x}}{{/x}}",
        "{{#image}}{{x}}{{/image}}",
        "{{#x}}{{/x}}{{x}}",
        "{{#x}}{{^x}}{{/x}}{{/x}}{{{x}}}",
    ] {
        assert!(
            matches!(
                error(guarded_elsewhere, &context),
                TemplateError::UndefinedVariable { ref name, line: 1, .. } if name == "x"
            ),
            "{guarded_elsewhere}"
        );
    }
    assert_eq!(
        error("{{x}}", &[]).to_string(),
        "template line 1: variable `x` is not defined: give the release an attribute x (--attr \
         x=VALUE in the CLI, an \"attributes\" entry in JSON) or put the tag inside \
         {{#x}}...{{/x}}; defined: nothing"
    );
    let many: Vec<String> = (0..40).map(|i| format!("a{i:02}")).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|name| (name.as_str(), "v")).collect();
    let message = error("{{x}}", &many).to_string();
    assert!(message.ends_with("a30, a31, and 8 more"), "{message}");
}

#[test]
fn a_section_on_its_own_name_makes_a_variable_optional() {
    let source = format!("{HEAD}  a: x\n{{{{#tag}}}}\n  tag: \"{{{{tag}}}}\"\n{{{{/tag}}}}\n");
    let absent = render(&source, &[], "default").unwrap();
    assert!(absent.documents[0].value["data"].get("tag").is_none());
    let present = render(&source, &[("tag", "v2")], "default").unwrap();
    assert_eq!(
        present.documents[0].value["data"]["tag"].as_str(),
        Some("v2")
    );
    assert_eq!(text("{{#a}}{{#b}}{{a}}{{/b}}{{/a}}", &[]), "");
}

#[test]
fn empty_values_are_defined_and_false() {
    let source = "{{#x}}yes:{{.}}{{/x}}{{^x}}no{{/x}}|{{x}}|";
    assert_eq!(text(source, &[("x", "")]), "no||");
    assert_eq!(text(source, &[("x", "v")]), "yes:v|v|");
    assert_eq!(text("{{#x}}yes{{/x}}{{^x}}no{{/x}}", &[]), "no");
    assert_eq!(data("  a: {{x}}\n", &[("x", "")])["a"], Value::Null);
}

#[test]
fn dotted_names_are_attribute_names() {
    let context = [("build.number", "42"), ("a", "1"), ("a.b", "2")];
    assert_eq!(
        text(
            "{{build.number}} {{a}} {{a.b}} {{#a.b}}[{{.}}]{{/a.b}}",
            &context
        ),
        "42 1 2 [2]"
    );
    assert!(matches!(
        error("{{build}}", &context),
        TemplateError::UndefinedVariable { .. }
    ));
    assert_eq!(text("{{#build}}never{{/build}}", &context), "");
}

#[test]
fn set_delimiters_change_what_is_a_tag() {
    let context = [("x", "1"), ("y", "2")];
    assert_eq!(
        text("{{=<% %>=}}<%x%> {{y}} <%={{ }}=%>{{y}}", &context),
        "1 {{y}} 2"
    );
    assert_eq!(text("{{=| |=}}|x|", &context), "1");
    assert_eq!(
        text("{{=<% 0>=}}<%x0><%#y0>[<%.0>]<%/y0>", &context),
        "1[2]"
    );
}

#[test]
fn partials_never_reach_the_engine() {
    assert!(matches!(
        Template::compile("{{> /etc/passwd}}"),
        Err(TemplateError::Partial { .. })
    ));
    // The engine's own partial loading is locked too: it cannot open a path with a NUL byte.
    let context = mustache::Context {
        template_path: PathBuf::from("\0"),
        template_extension: "\0".to_owned(),
    };
    assert!(context.compile("{{> x}}".chars()).is_err());
}

#[test]
fn benign_values_render() {
    let lines = "  image: {{image}}\n  replicas: {{replicas}}\n  debug: {{debug}}\n  \
                 quoted: \"{{quoted}}\"\n  single: '{{single}}'\n  empty: {{empty}}\n  \
                 tag: v{{version}}\n  url: https://{{host}}/x\n";
    let values = data(
        lines,
        &[
            ("image", "nginx:1.2"),
            ("replicas", "3"),
            ("debug", "true"),
            ("quoted", "a: b #notacomment"),
            ("single", "it''s"),
            ("empty", ""),
            ("version", "1.2.3"),
            ("host", "example.com"),
        ],
    );
    assert_eq!(values["image"].as_str(), Some("nginx:1.2"));
    assert_eq!(values["replicas"].as_u64(), Some(3));
    assert_eq!(values["debug"].as_bool(), Some(true));
    assert_eq!(values["quoted"].as_str(), Some("a: b #notacomment"));
    assert_eq!(values["single"].as_str(), Some("it's"));
    assert_eq!(values["empty"], Value::Null);
    assert_eq!(values["tag"].as_str(), Some("v1.2.3"));
    assert_eq!(values["url"].as_str(), Some("https://example.com/x"));
    let folded = data("  a: {{x}}\n", &[("x", "one\n   two")]);
    assert_eq!(folded["a"].as_str(), Some("one two"));
}

#[test]
fn a_value_cannot_add_a_document() {
    let source = format!("{HEAD}  image: {{{{image}}}}\n");
    assert_eq!(
        error(
            &source,
            &[("image", "nginx\n---\nkind: ClusterRoleBinding")]
        )
        .to_string(),
        "document 2 (ClusterRoleBinding): the value of attribute `image` changed the manifest's \
         structure; a value may only fill in a scalar, never add documents, keys, list items or \
         flow collections"
    );
    let followed = format!("{HEAD}  image: {{{{image}}}}\n  other: x\n");
    assert!(matches!(
        error(&followed, &[("image", "nginx\n...\n")]),
        TemplateError::StructureChanged { .. } | TemplateError::ValueBreaksYaml { .. }
    ));
    // Ending the last document early adds nothing.
    assert!(render(&source, &[("image", "nginx\n...\n")], "default").is_ok());
}

#[test]
fn a_value_cannot_add_keys_at_any_indentation() {
    let last = format!("{HEAD}  image: {{{{image}}}}\n");
    assert_eq!(
        error(&last, &[("image", "x\nevil: true")]).to_string(),
        "document 1 (ConfigMap/web): the value of attribute `image` changed the manifest's \
         structure; a value may only fill in a scalar, never add documents, keys, list items or \
         flow collections"
    );
    let source = format!("{HEAD}  image: {{{{image}}}}\n  other: x\n");
    for value in [
        "x\nevil: true",
        "x\n  evil: true",
        "x\r  evil: true",
        "x\n    evil: true",
        "x\n- a",
        "x\u{2028}  evil: true",
    ] {
        let error = error(&source, &[("image", value)]);
        assert!(
            matches!(
                error,
                TemplateError::StructureChanged { ref attribute, .. }
                    | TemplateError::ValueBreaksYaml { ref attribute, .. }
                    if attribute.as_deref() == Some("image")
            ),
            "{value:?}: {error}"
        );
    }
    assert_eq!(
        error(&source, &[("image", "a: b")]).to_string(),
        "document 1 is not valid YAML because of the value of attribute `image`, which may only \
         fill in a scalar (line numbers are those of the rendered manifest): mapping values are \
         not allowed in this context at line 6 column 11"
    );
}

#[test]
fn a_value_cannot_add_flow_collections_tags_or_aliases() {
    let source = format!("{HEAD}  labels: &labels {{app: web}}\n  image: {{{{image}}}}\n");
    for value in ["{a: b}", "[1, 2]", "*labels", "!Secret x", "!!map {}"] {
        assert!(
            matches!(
                error(&source, &[("image", value)]),
                TemplateError::StructureChanged { ref attribute, .. }
                    if attribute.as_deref() == Some("image")
            ),
            "{value:?}"
        );
    }
}

#[test]
fn a_value_cannot_break_out_of_quotes() {
    let breakout = [("x", "a\", \"b\": \"c")];
    let flow = format!("{HEAD}  inline: {{a: \"{{{{x}}}}\"}}\n");
    assert!(matches!(
        error(&flow, &breakout),
        TemplateError::StructureChanged { .. }
    ));
    let block = format!("{HEAD}  a: \"{{{{x}}}}\"\n");
    assert!(matches!(
        error(&block, &breakout),
        TemplateError::ValueBreaksYaml { .. }
    ));
    let single = format!("{HEAD}  inline: {{a: '{{{{x}}}}'}}\n");
    assert!(matches!(
        error(&single, &[("x", "a', b: 'c")]),
        TemplateError::StructureChanged { .. }
    ));
    // A value that completes YAML the template leaves broken changes its structure too.
    let open = format!("{HEAD}  a: \"{{{{x}}}}\n");
    assert!(matches!(
        error(&open, &[("x", "b\"")]),
        TemplateError::StructureChanged { .. }
    ));
}

#[test]
fn values_injecting_together_are_caught_without_blame() {
    let source = format!("{HEAD}  a: {{{{x}}}}{{{{y}}}}\n");
    assert_eq!(
        error(&source, &[("x", "k:"), ("y", " v")]).to_string(),
        "document 1 is not valid YAML because of an attribute value, which may only fill in a \
         scalar (line numbers are those of the rendered manifest): mapping values are not \
         allowed in this context at line 6 column 7"
    );
    assert_eq!(
        data("  a: {{x}}{{y}}\n", &[("x", "k:"), ("y", "v")])["a"].as_str(),
        Some("k:v")
    );
}

#[test]
fn yaml_broken_by_the_template_itself_is_a_syntax_error() {
    assert_eq!(
        error(&format!("{HEAD}  a: [{{{{x}}}}\n"), &[("x", "1")]).to_string(),
        "document 1 is not valid YAML (line numbers are those of the rendered manifest): did \
         not find expected ',' or ']' at line 7 column 1, while parsing a flow sequence at line \
         6 column 6"
    );
}

#[test]
fn rendered_documents_are_checked() {
    let source = "{{#extra}}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  \
                  namespace: {{extra}}\n{{/extra}}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  \
                  name: {{service}}\n";
    let manifest = render(source, &[("service", "web")], "prod").unwrap();
    assert_eq!(manifest.documents.len(), 1);
    assert_eq!(manifest.documents[0].index, 1);
    assert_eq!(manifest.documents[0].name, "web");
    let both = render(source, &[("service", "web"), ("extra", "prod")], "prod").unwrap();
    let found: Vec<(usize, &str, Option<&str>)> = both
        .documents
        .iter()
        .map(|d| (d.index, d.kind.as_str(), d.namespace.as_deref()))
        .collect();
    assert_eq!(found, [(1, "Secret", Some("prod")), (2, "Service", None)]);
    assert_eq!(
        render(
            source,
            &[("service", "web"), ("extra", "kube-system")],
            "prod"
        )
        .unwrap_err()
        .to_string(),
        "document 1 (Secret/s) is in namespace `kube-system`, but the release namespace is `prod`"
    );
    assert_eq!(error("{{#x}}a: b{{/x}}", &[]), TemplateError::NoDocuments);
}

#[test]
fn the_first_of_duplicated_context_names_wins() {
    assert_eq!(text("{{x}}", &[("x", "1"), ("x", "2")]), "1");
}

#[test]
fn odd_inputs_are_errors_not_panics() {
    let context = [("a", "1"), ("x", "v")];
    for source in [
        "{{",
        "}}",
        "{{}}",
        "{{{",
        "{{{}}}",
        "{{{x}}",
        "{{x}",
        "{{#a}}",
        "{{/a}}",
        "{{^a}}{{/b}}",
        "{{=| |=}}|x|",
        "{{=| |=}}|x",
        "{{=| |=}}||",
        "{{=}}",
        "{{.}}",
        "{{#.}}{{.}}{{/.}}",
        "{{#a}}{{#.}}{{.}}{{/.}}{{/a}}",
        "{{&}}",
        "{{& .}}",
        "{{!",
        "{{! }}",
        "{{> }}",
        "\u{feff}{{x}}",
        "{{é}}",
        "{{xé}}",
        "{{=é ü=}}éxü",
        "{{=<% %>=}}<%",
        "{{=<% %>=}}<%x%",
        "{{#a}}{{a}}{{/a}}{{#a}}",
        "\r\n{{#a}}\r\n{{/a}}\r\n",
        "- {{x}}\n- {{{x}}}\n",
    ] {
        if let Ok(template) = Template::compile(source) {
            let rendered = template.render(&context, "default");
            assert!(rendered.is_err(), "{source:?} should not make a manifest");
        }
    }
}

#[test]
fn placeholder_renders_are_cached_per_pattern_and_shared_by_clones() {
    let template = Template::compile(&format!("{HEAD}  a: '{{{{x}}}}'\n")).unwrap();
    let clone = template.clone();
    template.render(&[("x", "1")], "default").unwrap();
    clone.render(&[("x", "2")], "default").unwrap();
    template.render(&[("x", "")], "default").unwrap();
    let cached = template.inner.expectations.read().unwrap().len();
    assert_eq!(cached, 2);
}

#[test]
fn templates_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<Template>();
    shareable::<Manifest>();
    shareable::<TemplateError>();
}

/// What a full parse of the render gives (for renders whose values keep the structure).
fn parsed(source: &str, context: &[(&str, &str)], namespace: &str) -> Manifest {
    let yaml = text(source, context);
    let documents = manifest::parse(&yaml).unwrap();
    manifest::check(yaml, documents, namespace).unwrap()
}

/// Whether the template has a fast-path plan for the pattern of `context`.
fn planned(template: &Template, context: &[(&str, &str)]) -> bool {
    let filled: Vec<bool> = template
        .inner
        .names
        .iter()
        .map(|name| lookup(context, name).is_some_and(|value| !value.is_empty()))
        .collect();
    template.inner.expected(&filled).unwrap().plan.is_some()
}

const FAST: &[&str] = &[
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{service}}\n  namespace: {{namespace}}\n\
     data:\n  plain: {{x}}\n  quoted: \"{{x}}\"\n  single: '{{x}}'\n  mixed: a-{{x}}-b\n  \
     number: 1{{y}}\n  flow: {a: {{x}}, b: [{{y}}, '{{x}}']}\n  block: |\n    line {{x}}\n    \
     {{y}}\n  folded: >-\n    {{x}}\n    {{y}}\n  multi: first\n    {{x}} second\n{{#z}}\n  \
     z: {{z}}\n{{/z}}\n  list:\n  - {{y}}\n  - !custom {{y}}\n  - !!str {{y}}\n",
    "{{#z}}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s-{{z}}\n{{/z}}\n---\n\
     apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{service}}\nspec:\n  \
     replicas: {{y}}\n  template:\n    spec:\n      containers:\n      - image: repo/{{x}}:{{y}}\n",
];

#[test]
fn the_fast_path_matches_a_full_parse() {
    let values = [
        "nginx",
        "3",
        "0",
        "007",
        "0x1F",
        "1e3",
        "true",
        "null",
        "NULL",
        "v1.2",
        "1.5",
        "a:b",
        "user@example.com",
        "-9223372036854775808",
        "1844674407370955161",
        "https://ci.example.com/job/42/",
        "/healthz",
        "/",
    ];
    for source in FAST {
        let template = Template::compile(source).unwrap();
        for x in values {
            for y in values {
                for z in ["", "web"] {
                    let context = [
                        ("service", "web"),
                        ("namespace", "default"),
                        ("x", x),
                        ("y", y),
                        ("z", z),
                    ];
                    assert!(planned(&template, &context), "{source}");
                    assert_eq!(
                        template.render(&context, "default").unwrap(),
                        parsed(source, &context, "default"),
                        "x={x:?} y={y:?} z={z:?}\n{source}"
                    );
                }
            }
        }
    }
}

#[test]
fn integers_beyond_64_bits_fail_like_a_parse() {
    let source = format!("{HEAD}  a: {{{{x}}}}\n");
    let context = [("x", "18446744073709551616")];
    assert!(planned(&Template::compile(&source).unwrap(), &context));
    assert_eq!(
        error(&source, &context).to_string(),
        "document 1 is not valid YAML because of the value of attribute `x`, which may only fill \
         in a scalar (line numbers are those of the rendered manifest): data.a: invalid type: \
         integer `18446744073709551616` as u128, expected any YAML value at line 6 column 6"
    );
}

#[test]
fn scalars_of_unknown_style_resolve_like_a_parse() {
    for (source, expected) in [
        ("  a: {{x}}-{{y}}\n", Value::from(1e-5)),
        ("  a: \"{{x}}-{{y}}\"\n", Value::from("1e-5")),
        ("  a: '{{x}}-{{y}}'\n", Value::from("1e-5")),
    ] {
        let source = format!("{HEAD}{source}");
        let context = [("x", "1e"), ("y", "5")];
        assert!(planned(&Template::compile(&source).unwrap(), &context));
        assert_eq!(
            data(&source[HEAD.len()..], &context)["a"],
            expected,
            "{source}"
        );
        assert_eq!(
            render(&source, &context, "default").unwrap(),
            parsed(&source, &context, "default")
        );
    }
}

#[test]
fn templates_with_values_outside_scalar_values_take_the_slow_path() {
    let context = [("v", "web"), ("k", "key")];
    for lines in [
        "  a: &anchor {{v}}\n  b: *anchor\n",
        "  {{k}}: {{v}}\n",
        "  a: !{{k}} {{v}}\n",
        "  # {{v}}\n  a: {{v}}\n",
        "  a: \"*.example.com\"\n  b: {{v}}\n",
    ] {
        let source = format!("{HEAD}{lines}");
        let template = Template::compile(&source).unwrap();
        assert!(!planned(&template, &context), "{lines}");
        assert_eq!(
            template.render(&context, "default").unwrap(),
            parsed(&source, &context, "default"),
            "{lines}"
        );
    }
}

#[test]
fn values_that_are_not_inert_take_the_slow_path() {
    let source = FAST[1];
    let template = Template::compile(source).unwrap();
    let context = |x| [("service", "web"), ("x", x), ("y", "3"), ("z", "")];
    assert!(planned(&template, &context("nginx")));
    let spaced = context("my image");
    assert_eq!(
        template.render(&spaced, "default").unwrap(),
        parsed(source, &spaced, "default")
    );
    assert!(matches!(
        template.render(&context("x\n      evil: true"), "default"),
        Err(TemplateError::StructureChanged { .. } | TemplateError::ValueBreaksYaml { .. })
    ));
    assert!(
        template
            .render(&context("x\n---\nkind: Secret"), "default")
            .is_err()
    );
}

/// Templates pieced together from YAML and mustache fragments, from a fixed seed.
fn generated(count: usize) -> Vec<String> {
    const FRAGMENTS: &[&str] = &[
        "a: ",
        "b: ",
        "- ",
        "  ",
        "\n",
        "\n  ",
        ": ",
        ", ",
        "[",
        "]",
        "{",
        "}",
        "\"",
        "'",
        "#",
        "|\n",
        ">-\n",
        "!t ",
        "!!str ",
        "&a ",
        "*a",
        "---\n",
        "x",
        "1",
        "-",
        ".",
        "{{x}}",
        "{{{y}}}",
        "{{& z}}",
        "{{#z}}",
        "{{/z}}",
        "{{^x}}",
        "{{/x}}",
        "{{#x}}",
        "{{.}}",
        "{{! c }}",
        "\\",
        "kubernaut",
        "0x",
        "<<: ",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound as u64) as usize
    };
    (0..count)
        .map(|_| {
            let head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: n\ndata:\n  ";
            let length = 1 + next(24);
            let body: String = (0..length)
                .map(|_| FRAGMENTS[next(FRAGMENTS.len())])
                .collect();
            format!("{head}{body}\n")
        })
        .collect()
}

#[test]
fn generated_templates_never_panic_and_agree_with_a_full_parse() {
    let contexts: [&[(&str, &str)]; 7] = [
        &[("x", "v1"), ("y", "3"), ("z", "true")],
        &[("x", ""), ("y", "0x1F"), ("z", "a:b")],
        &[("x", "a b"), ("y", "x\ny: 1"), ("z", "{k: v}")],
        &[("x", "null"), ("y", "1e3"), ("z", "")],
        &[("x", "a:b"), ("y", "0o7"), ("z", "1_0")],
        &[("x", "a%b=c@d~e"), ("y", "1.0"), ("z", "kubernaut0x")],
        &[("x", "https://h/a/"), ("y", "/"), ("z", "/p")],
    ];
    for source in generated(3000) {
        let Ok(template) = Template::compile(&source) else {
            continue;
        };
        for context in contexts {
            if let Ok(manifest) = template.render(context, "default") {
                assert_eq!(
                    manifest,
                    parsed(&source, context, "default"),
                    "{source:?} {context:?}"
                );
            }
        }
    }
}

#[test]
fn a_template_tells_which_names_its_tags_use() {
    let template = Template::compile("a: {{image}}\n{{#extra}}b: {{{extra}}}{{/extra}}\n").unwrap();
    assert!(template.uses("image") && template.uses("extra"));
    assert!(!template.uses("imgae") && !template.uses("commit"));
}
