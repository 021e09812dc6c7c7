//! Log lines on standard error, filtered by `RUST_LOG` (default `info`): text for people, or
//! one JSON object per line for log collectors. Structured fields of a record (a request's
//! `request_id`, `status`, ...) follow the message in text and are keys in JSON.

use std::io::Write;

use chrono::{SecondsFormat, Utc};
use log::kv::{Key, Value, VisitSource};
use serde::Deserialize;
use serde_json::{Map, json};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `[time LEVEL target] message key=value ...`
    #[default]
    Text,
    /// `{"time": ..., "level": ..., "target": ..., "message": ..., "key": value, ...}`
    Json,
}

/// Collects a record's key-values into a JSON object.
struct Fields<'a>(&'a mut Map<String, serde_json::Value>);

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let value = match value.to_u64() {
            Some(number) => json!(number),
            None => json!(value.to_string()),
        };
        self.0.insert(key.as_str().to_owned(), value);
        Ok(())
    }
}

/// Installs the logger.
pub fn init(format: LogFormat) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if format == LogFormat::Json {
        builder.format(|buf, record| {
            let mut line = Map::new();
            line.insert(
                "time".to_owned(),
                json!(Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)),
            );
            line.insert("level".to_owned(), json!(record.level().as_str()));
            line.insert("target".to_owned(), json!(record.target()));
            line.insert("message".to_owned(), json!(record.args().to_string()));
            let _ = record.key_values().visit(&mut Fields(&mut line));
            writeln!(buf, "{}", serde_json::Value::Object(line))
        });
    }
    builder.init();
}
