use std::fmt;
use std::process::ExitCode;

use kubernaut_client::ClientError;

/// Why a command did not succeed, and the exit code that tells a pipeline.
#[derive(Debug)]
pub enum CliError {
    /// A request or a local step failed (exit 1).
    Failed(String),
    /// The deployment failed (exit 3).
    DeploymentFailed(String),
    /// Waiting for the deployment timed out (exit 4).
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

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Failed(message)
            | CliError::DeploymentFailed(message)
            | CliError::TimedOut(message) => f.write_str(message),
        }
    }
}

impl From<ClientError> for CliError {
    fn from(error: ClientError) -> Self {
        CliError::Failed(error.to_string())
    }
}
