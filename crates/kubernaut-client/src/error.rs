use std::time::Duration;

use thiserror::Error;

use crate::retry::seconds;

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
    /// An idempotent request was retried while the server was unavailable (`503`, or no
    /// connection) until the retry budget ran out; `last` is the last attempt's error.
    #[error("{last} (gave up after {} of retries, {attempts} attempts)", seconds(*.retried_for))]
    GaveUp {
        /// How long the attempts took, from the first one's start.
        retried_for: Duration,
        /// How many times the request was sent.
        attempts: u32,
        /// The last attempt's error: [`ClientError::Unreachable`], or a `503` as
        /// [`ClientError::Api`] (or [`ClientError::Unexpected`] from a proxy).
        last: Box<ClientError>,
    },
}

impl ClientError {
    /// The HTTP status of an answered request, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Unexpected { status, .. } => {
                Some(*status)
            }
            ClientError::GaveUp { last, .. } => last.status(),
            ClientError::InvalidUrl { .. }
            | ClientError::InvalidToken { .. }
            | ClientError::Unreachable { .. } => None,
        }
    }

    /// Whether the server may answer later: it could not be reached, or answered `503` (its
    /// database is unavailable). The client has retried an idempotent request for its retry
    /// budget already ([`ClientError::GaveUp`]) unless the budget is zero.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } => true,
            ClientError::GaveUp { last, .. } => last.is_transient(),
            other => other.status() == Some(503),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn giving_up_says_how_long_it_tried() {
        let error = ClientError::GaveUp {
            retried_for: Duration::from_millis(30_200),
            attempts: 11,
            last: Box::new(ClientError::Api {
                status: 503,
                message: "the database is unavailable; try again later".to_owned(),
            }),
        };
        assert_eq!(
            error.to_string(),
            "the database is unavailable; try again later (gave up after 30 s of retries, 11 \
             attempts)"
        );
        assert_eq!(error.status(), Some(503));
        assert!(error.is_transient());
        let conflict = ClientError::Api {
            status: 409,
            message: "conflict".to_owned(),
        };
        assert!(!conflict.is_transient());
    }
}
