use super::*;

fn config(name: &str) -> WebhookConfig {
    WebhookConfig {
        name: name.to_owned(),
        url: "https://hooks.example.com/kubernaut/T0123/secret-path".to_owned(),
        secret: Some("It's a Secret to Everybody".to_owned()),
        ..WebhookConfig::default()
    }
}

fn error(configs: &[WebhookConfig]) -> String {
    Webhooks::new(configs).unwrap_err().to_string()
}

#[test]
fn a_bad_entry_is_named_with_its_problem() {
    let cases = [
        (
            WebhookConfig {
                url: "ftp://example.com".to_owned(),
                ..config("chat")
            },
            "notifications.webhooks[0] (\"chat\"): url must be an http or https URL",
        ),
        (
            WebhookConfig {
                events: vec!["deployment.exploded".to_owned()],
                ..config("chat")
            },
            "notifications.webhooks[0] (\"chat\"): event must be one of deployment.started, \
             deployment.succeeded, deployment.failed, deployment.canceled, got \
             \"deployment.exploded\"",
        ),
        (
            WebhookConfig {
                secret: None,
                ..config("chat")
            },
            "notifications.webhooks[0] (\"chat\"): secret is required: receivers verify \
             X-Kubernaut-Signature-256 with it",
        ),
        (
            WebhookConfig {
                format: Some("xml".to_owned()),
                ..config("chat")
            },
            "notifications.webhooks[0] (\"chat\"): format must be json or slack, got \"xml\"",
        ),
        (
            WebhookConfig {
                headers: [("X-Kubernaut-Event".to_owned(), "x".to_owned())].into(),
                ..config("chat")
            },
            "notifications.webhooks[0] (\"chat\"): headers: X-Kubernaut-Event is set by \
             kubernaut",
        ),
        (
            WebhookConfig {
                contexts: vec!["prod eu".to_owned()],
                ..config("chat")
            },
            "notifications.webhooks[0] (\"chat\"): contexts: context must be *, a name, or a \
             name's start followed by * (like staging-*), got \"prod eu\"",
        ),
        (
            config(""),
            "notifications.webhooks[0] (\"\"): name must be 1 to 63 characters without \
             whitespace",
        ),
    ];
    for (bad, expected) in cases {
        assert_eq!(error(&[bad]), expected);
    }
    assert_eq!(
        error(&[config("chat"), config("audit"), config("chat")]),
        "notifications.webhooks[2] (\"chat\"): name is used by an earlier webhook"
    );
}

#[test]
fn slack_needs_no_secret_and_shows_no_secret() {
    let slack = WebhookConfig {
        secret: None,
        format: Some("slack".to_owned()),
        headers: [("Authorization".to_owned(), "Bearer hush".to_owned())].into(),
        ..config("chat")
    };
    let webhooks = Webhooks::new(&[slack, config("audit")]).unwrap();
    let shown: Vec<WebhookBody> = webhooks.iter().map(Webhook::body).collect();
    assert_eq!(shown[0].url, "https://hooks.example.com");
    assert_eq!(shown[0].format, "slack");
    assert_eq!(shown[0].headers, ["authorization"]);
    let everything = format!("{shown:?} {webhooks:?}");
    for secret in ["secret-path", "hush", "Secret to Everybody"] {
        assert!(!everything.contains(secret), "{everything}");
    }
    assert_eq!(webhooks.get("chat").unwrap().signature(b"{}"), None);
}

#[test]
fn the_signature_is_the_hmac_sha256_of_the_body() {
    let webhooks = Webhooks::new(&[config("audit")]).unwrap();
    // As GitHub documents its webhook signatures: this secret and body give this digest.
    assert_eq!(
        webhooks
            .get("audit")
            .unwrap()
            .signature(b"Hello, World!")
            .unwrap(),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
}

#[test]
fn slack_text_is_escaped() {
    assert_eq!(slack_escape("a <b> & c"), "a &lt;b&gt; &amp; c");
}
