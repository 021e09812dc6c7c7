use thiserror::Error;

/// What can go wrong talking to kubernaut.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The server URL cannot be used.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The token cannot be sent (empty, or characters a header cannot hold). The token itself
    /// is never part of the message.
    #[error("invalid token: {reason}")]
    InvalidToken {
        /// What is wrong with it.
        reason: String,
    },
    /// No answer: connection refused, DNS failure, timeout, TLS failure.
    #[error("cannot reach kubernaut at {server}: {reason}")]
    Unreachable {
        /// The server's base URL.
        server: String,
        /// The cause, as the HTTP stack tells it.
        reason: String,
    },
    /// The server answered with an error status and its JSON `message`: among others 401 (no
    /// token, or an unknown, expired or revoked one) and 403 (the token may not do that).
    #[error("{message}")]
    Api {
        /// The HTTP status code.
        status: u16,
        /// The server's message, as sent.
        message: String,
    },
    /// The server answered something that is not kubernaut's API (wrong URL, a proxy's page).
    #[error("unexpected answer from {server} (HTTP {status}): {reason}")]
    Unexpected {
        /// The server's base URL.
        server: String,
        /// The HTTP status code.
        status: u16,
        /// What could not be read.
        reason: String,
    },
}

impl ClientError {
    /// The HTTP status of an answered request, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Unexpected { status, .. } => {
                Some(*status)
            }
            ClientError::InvalidUrl { .. }
            | ClientError::InvalidToken { .. }
            | ClientError::Unreachable { .. } => None,
        }
    }
}
