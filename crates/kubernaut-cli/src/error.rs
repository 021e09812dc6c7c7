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
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Request(_) | CliError::Failed(_) => 1,
            CliError::DeploymentFailed(_) => 3,
            CliError::TimedOut(_) => 4,
            CliError::DeploymentCanceled(_) => 5,
        })
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
}
