//! The pages: one module per resource, each handler parsing its input, calling operations of
//! `kubernaut-app` with the session's caller, and rendering.

pub(crate) mod audit;
pub(crate) mod deployments;
pub(crate) mod releases;
pub(crate) mod services;
pub(crate) mod tokens;
pub(crate) mod what_runs_where;
