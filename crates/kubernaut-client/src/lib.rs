//! A typed async client of kubernaut's REST API (see `docs/api.md`), for the `kubernaut` CLI
//! and for other Rust services. Request and response bodies are those of `kubernaut-wire`.
//!
//! ```no_run
//! # async fn ship() -> Result<(), kubernaut_client::ClientError> {
//! use kubernaut_client::{Client, CreateDeployment};
//!
//! let client = Client::new("http://127.0.0.1:8080")?;
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

pub use client::{Client, Created};
pub use error::ClientError;
pub use kubernaut_wire::*;
pub use query::{DeploymentFilter, Paging, ReleaseFilter, ServiceFilter};
