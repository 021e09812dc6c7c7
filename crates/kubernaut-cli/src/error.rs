use std::process::ExitCode;

use kubernaut_client::ClientError;
use thiserror::Error;

/// Why a command did not succeed, and the exit code that tells a pipeline.
#[derive(Debug, Error)]
pub enum CliError {
    /// A request or a local step failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// The deployment failed (exit 3).
    #[error("{0}")]
    DeploymentFailed(String),
    /// Waiting for the deployment timed out (exit 4).
    #[error("{0}")]
    TimedOut(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Failed(_) => 1,
            CliError::DeploymentFailed(_) => 3,
            CliError::TimedOut(_) => 4,
        })
    }
}

impl From<ClientError> for CliError {
    fn from(error: ClientError) -> Self {
        CliError::Failed(error.to_string())
    }
}
