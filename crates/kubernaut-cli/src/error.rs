use std::process::ExitCode;

use kubernaut_client::ClientError;
use thiserror::Error;

/// Why a command did not succeed, and the exit code that tells a pipeline.
#[derive(Debug, Error)]
pub enum CliError {
    /// A request failed: no answer, or the server's error answer, 401 and 403 included
    /// (exit 1).
    #[error(transparent)]
    Request(#[from] ClientError),
    /// A local step failed, or `audit verify` found the audit log altered (exit 1).
    #[error("{0}")]
    Failed(String),
    /// The deployment failed (exit 3), also when it was rolled back automatically.
    #[error("{0}")]
    DeploymentFailed(String),
    /// The deployment was canceled (exit 5).
    #[error("{0}")]
    DeploymentCanceled(String),
    /// Waiting for the deployment timed out (exit 4).
    #[error("{0}")]
    TimedOut(String),
    /// `diff` found something that deploying would change (exit 5, like `kubectl diff`'s 1);
    /// not an error to print: standard output shows what.
    #[error("deploying would change the cluster")]
    WouldChange,
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Request(_) | CliError::Failed(_) => 1,
            CliError::DeploymentFailed(_) => 3,
            CliError::TimedOut(_) => 4,
            CliError::DeploymentCanceled(_) | CliError::WouldChange => 5,
        })
    }

    /// Whether the outcome is told by standard output alone, without an error line.
    pub fn is_silent(&self) -> bool {
        matches!(self, CliError::WouldChange)
    }

    /// This error, with a hint when the server wanted a token and none was given.
    pub fn with_token_hint(self, token_given: bool) -> Self {
        match self {
            CliError::Request(ClientError::Api {
                status: 401,
                message,
            }) if !token_given => CliError::Failed(format!(
                "{message} (no token was given: pass one with --token or the KUBERNAUT_TOKEN \
                 environment variable)"
            )),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unauthorized() -> CliError {
        CliError::Request(ClientError::Api {
            status: 401,
            message: "missing bearer token".to_owned(),
        })
    }

    #[test]
    fn a_401_without_a_token_hints_at_the_token_options() {
        assert_eq!(
            unauthorized().with_token_hint(false).to_string(),
            "missing bearer token (no token was given: pass one with --token or the \
             KUBERNAUT_TOKEN environment variable)"
        );
        assert_eq!(
            unauthorized().with_token_hint(true).to_string(),
            "missing bearer token"
        );
        let forbidden = CliError::Request(ClientError::Api {
            status: 403,
            message: "token \"ci\" may not deploy".to_owned(),
        });
        assert_eq!(
            forbidden.with_token_hint(false).to_string(),
            "token \"ci\" may not deploy"
        );
    }

    #[test]
    fn a_diff_with_changes_exits_5_without_an_error_line() {
        assert_eq!(CliError::WouldChange.exit_code(), ExitCode::from(5));
        assert!(CliError::WouldChange.is_silent());
        assert!(!CliError::Failed("x".to_owned()).is_silent());
    }
}
