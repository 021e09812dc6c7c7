//! Render + validate throughput of a 60-line template with 10 attributes, on one core, beside
//! mustache alone rendering the same template (DESIGN.md budget: >= 50,000 renders/s).
//!
//! `cargo bench -p kubernaut-template --bench render [-- SECONDS]` (default 3 s per case).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kubernaut_template::Template;

const TEMPLATE: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{service}}-config
  labels:
    app: {{service}}
    team: {{team}}
data:
  LOG_LEVEL: "{{log_level}}"
  REGION: "{{region}}"
  BUILD_URL: "{{build_url}}"
---
apiVersion: v1
kind: Service
metadata:
  name: {{service}}
  labels:
    app: {{service}}
spec:
  selector:
    app: {{service}}
  ports:
    - name: http
      port: 80
      targetPort: {{port}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
  labels:
    app: {{service}}
    version: "{{version}}"
spec:
  replicas: {{replicas}}
  selector:
    matchLabels:
      app: {{service}}
  template:
    metadata:
      labels:
        app: {{service}}
        commit: "{{commit}}"
    spec:
      containers:
        - name: {{service}}
          image: "{{image}}"
          ports:
            - containerPort: {{port}}
          envFrom:
            - configMapRef:
                name: {{service}}-config
          readinessProbe:
            httpGet:
              path: /healthz
              port: {{port}}
          resources:
            limits:
              cpu: "{{cpu}}"
              memory: "{{memory}}"
"#;

const CONTEXT: [(&str, &str); 13] = [
    ("service", "hello-world"),
    ("namespace", "default"),
    ("version", "42"),
    ("image", "registry.example.com/hello-world:42"),
    ("commit", "3f2a9c1"),
    ("replicas", "3"),
    ("port", "8080"),
    ("log_level", "info"),
    ("region", "eu-west-1"),
    ("cpu", "500m"),
    ("memory", "256Mi"),
    ("team", "platform"),
    ("build_url", "https://ci.example.com/job/hello-world/42"),
];

/// Runs `f` for `duration`; its rate per second.
fn rate(duration: Duration, mut f: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut runs = 0u64;
    while started.elapsed() < duration {
        for _ in 0..100 {
            f();
        }
        runs += 100;
    }
    runs as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let seconds: u64 = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(3);
    let duration = Duration::from_secs(seconds);
    assert_eq!(TEMPLATE.lines().count(), 60);

    let mustache = mustache::compile_str(TEMPLATE).expect("mustache compiles");
    let data: HashMap<&str, &str> = CONTEXT.into_iter().collect();
    let reference = rate(duration, || {
        std::hint::black_box(mustache.render_to_string(&data).expect("renders"));
    });

    let template = Template::compile(TEMPLATE).expect("compiles");
    let cached = rate(duration, || {
        std::hint::black_box(template.render(&CONTEXT, "default").expect("renders"));
    });
    // A URL ending in '/' (inert since it may end with '/').
    let mut url_context = CONTEXT;
    url_context[12].1 = "https://ci.example.com/job/hello-world/42/";
    let url = rate(duration, || {
        std::hint::black_box(template.render(&url_context, "default").expect("renders"));
    });
    // A value outside the inert characters (here one with a space) makes a render parse the
    // YAML to check its shape.
    let mut parsed_context = CONTEXT;
    parsed_context[12].1 = "build 42 of hello-world";
    let parsed = rate(duration, || {
        std::hint::black_box(
            template
                .render(&parsed_context, "default")
                .expect("renders"),
        );
    });
    let compiled_each_time = rate(duration, || {
        let template = Template::compile(TEMPLATE).expect("compiles");
        std::hint::black_box(template.render(&CONTEXT, "default").expect("renders"));
    });
    println!("mustache alone (reference):             {reference:>9.0} renders/s");
    println!("render + validate, compiled template:   {cached:>9.0} renders/s");
    println!("  the same, a URL ending in '/':          {url:>9.0} renders/s");
    println!("  the same, one value not inert (parsed): {parsed:>9.0} renders/s");
    println!("compile + render + validate:            {compiled_each_time:>9.0} renders/s");
}
