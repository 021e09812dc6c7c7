//! A typed async client of kubernaut's REST API (see `docs/api.md`), for the `kubernaut` CLI
//! and for other Rust services. Request and response bodies are those of `kubernaut-wire`.
//! Every request carries the token given with [`Client::with_token`]; a missing or refused
//! token is a [`ClientError::Api`] with status 401 or 403 and the server's message.
//! Idempotent requests ride out a server whose database is briefly unavailable (`503`) or that
//! cannot be reached, retrying with backoff for [`Client::with_retry_budget`] (30 s by default).
//!
//! ```no_run
//! # async fn ship() -> Result<(), kubernaut_client::ClientError> {
//! use kubernaut_client::{Client, CreateDeployment};
//!
//! let token = std::env::var("KUBERNAUT_TOKEN").unwrap_or_default();
//! let client = Client::new("http://127.0.0.1:8080")?.with_token(&token)?;
//! let deployment = client
//!     .create_deployment(
//!         &CreateDeployment {
//!             service: Some("hello-world".into()),
//!             version: Some("42".into()),
//!             context: Some("sandbox".into()),
//!             ..CreateDeployment::default()
//!         },
//!         Some(300),
//!     )
//!     .await?;
//! println!("{}", deployment.status);
//! # Ok(())
//! # }
//! ```

mod client;
mod error;
mod query;
mod retry;

pub use client::{Client, Created};
pub use error::ClientError;
pub use kubernaut_wire::*;
pub use query::{AuditFilter, DeploymentFilter, Paging, ReleaseFilter, ServiceFilter, TokenFilter};
