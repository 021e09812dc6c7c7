//! Riding out a server whose database is unavailable: which requests may be sent again, which
//! failures are worth another attempt, and how long to wait between attempts (exponential
//! backoff with jitter, at least the server's `Retry-After`, never past the retry budget).

use std::error::Error;
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderValue;

/// How long a client retries a request by default.
pub(crate) const DEFAULT_BUDGET: Duration = Duration::from_secs(30);
/// The ceiling of the first wait.
const FIRST: Duration = Duration::from_millis(100);
/// The largest ceiling: the waits stop doubling here.
const MAX: Duration = Duration::from_secs(5);
/// The largest `Retry-After` taken as sent (the budget caps it anyway).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Whether sending a request twice does what sending it once does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotence {
    /// Every GET, `POST /api/releases` (the same release again answers 200 with the same
    /// release), `POST /api/deployments?dryRun=true` (stores and applies nothing) and DELETEs
    /// (204 again): retried.
    Idempotent,
    /// `POST /api/deployments`, `POST /api/tokens`: a second attempt would make a second
    /// record, so never retried. Nor `POST /api/deployments/{id}/cancel`: once a first attempt
    /// ended the deployment, a second one is refused (409).
    NotIdempotent,
}

/// The ceiling of the wait before retry number `retry` (0 for the first): 100 ms, doubling,
/// at most 5 s.
pub(crate) fn ceiling(retry: u32) -> Duration {
    FIRST
        .saturating_mul(1_u32.checked_shl(retry).unwrap_or(u32::MAX))
        .min(MAX)
}

/// The wait before retry `retry` with "equal jitter": between half the ceiling and the
/// ceiling, `random` picking where, so that clients which failed together do not come back
/// together.
pub(crate) fn backoff(retry: u32, random: u64) -> Duration {
    let ceiling = ceiling(retry);
    let half = ceiling / 2;
    let span = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
    half + Duration::from_nanos(random % span.saturating_add(1))
}

/// How long to wait before retry `retry`: the backoff, but at least the server's `Retry-After`,
/// and at most what `remains` of the budget.
pub(crate) fn wait(
    retry: u32,
    retry_after: Option<Duration>,
    remains: Duration,
    random: u64,
) -> Duration {
    backoff(retry, random)
        .max(retry_after.unwrap_or_default())
        .min(remains)
}

/// A random number for the jitter, without a random number crate: the standard library seeds
/// every `RandomState` differently (randomly per thread, then counting), and the clock's
/// nanoseconds differ between processes started together.
pub(crate) fn random() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    RandomState::new().hash_one(nanos)
}

/// A `Retry-After` header in seconds (the form kubernaut sends; an HTTP date is ignored).
pub(crate) fn retry_after(header: Option<&HeaderValue>) -> Option<Duration> {
    let seconds = header?.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Whether a request that got no answer may be sent again: the connection was refused, reset
/// or aborted, or timed out, or closed before the answer came. Not a DNS or TLS failure, nor an
/// invalid request: those do not pass by waiting.
pub(crate) fn transient_failure(error: &reqwest::Error) -> bool {
    if error.is_timeout() || io_error_kinds(error).any(transient_io) {
        return true;
    }
    // Connect errors (DNS, TLS) are request errors too; the rest of them is the connection
    // breaking after it was made (closed before the answer, a malformed answer).
    error.is_request() && !error.is_connect()
}

fn transient_io(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::TimedOut
            | io::ErrorKind::UnexpectedEof
    )
}

/// The kinds of the I/O errors among `error`'s causes.
fn io_error_kinds<'a>(
    error: &'a (dyn Error + 'static),
) -> impl Iterator<Item = io::ErrorKind> + 'a {
    std::iter::successors(Some(error), |&error| error.source())
        .filter_map(|error| error.downcast_ref::<io::Error>().map(io::Error::kind))
}

/// A duration for people: `0.3 s`, `4.5 s`, `30 s`.
pub(crate) fn seconds(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 9.95 {
        format!("{seconds:.1} s")
    } else {
        format!("{seconds:.0} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn the_ceiling_doubles_from_100_ms_to_at_most_5_s() {
        let schedule: Vec<Duration> = (0..9).map(ceiling).collect();
        assert_eq!(
            schedule,
            [
                MS(100),
                MS(200),
                MS(400),
                MS(800),
                MS(1600),
                MS(3200),
                MS(5000),
                MS(5000),
                MS(5000)
            ]
        );
        assert_eq!(ceiling(31), MAX);
        assert_eq!(ceiling(32), MAX);
        assert_eq!(ceiling(u32::MAX), MAX);
    }

    #[test]
    fn backoff_lies_between_half_the_ceiling_and_the_ceiling() {
        for retry in 0..12 {
            let ceiling = ceiling(retry);
            assert_eq!(backoff(retry, 0), ceiling / 2);
            let span = u64::try_from((ceiling - ceiling / 2).as_nanos()).unwrap();
            assert_eq!(backoff(retry, span), ceiling);
            for random in [1, 12_345, u64::MAX / 3, u64::MAX - 1, u64::MAX, random()] {
                let wait = backoff(retry, random);
                assert!(
                    ceiling / 2 <= wait && wait <= ceiling,
                    "{retry} {random}: {wait:?}"
                );
            }
        }
    }

    #[test]
    fn the_jitter_spreads_the_waits() {
        let waits: std::collections::BTreeSet<Duration> =
            (0..20).map(|_| backoff(6, random())).collect();
        assert!(waits.len() > 10, "{waits:?}");
    }

    #[test]
    fn retry_after_is_a_lower_bound_and_the_budget_an_upper_one() {
        let plenty = Duration::from_secs(60);
        assert_eq!(wait(0, None, plenty, 0), MS(50));
        assert_eq!(wait(0, Some(Duration::ZERO), plenty, 0), MS(50));
        assert_eq!(wait(0, Some(Duration::from_secs(5)), plenty, 0), MS(5000));
        assert_eq!(wait(8, Some(Duration::from_secs(1)), plenty, 0), MS(2500));
        assert_eq!(wait(0, Some(Duration::from_secs(5)), MS(700), 0), MS(700));
        assert_eq!(wait(8, None, MS(10), u64::MAX), MS(10));
        assert_eq!(wait(3, None, Duration::ZERO, 7), Duration::ZERO);
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let header = |value: &'static str| HeaderValue::from_static(value);
        assert_eq!(
            retry_after(Some(&header("5"))),
            Some(Duration::from_secs(5))
        );
        assert_eq!(retry_after(Some(&header(" 0 "))), Some(Duration::ZERO));
        assert_eq!(
            retry_after(Some(&header("99999999"))),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            retry_after(Some(&header("Wed, 21 Oct 2015 07:28:00 GMT"))),
            None
        );
        assert_eq!(retry_after(Some(&header("-1"))), None);
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn connection_failures_by_io_kind() {
        assert!(transient_io(io::ErrorKind::ConnectionRefused));
        assert!(transient_io(io::ErrorKind::ConnectionReset));
        assert!(transient_io(io::ErrorKind::TimedOut));
        assert!(!transient_io(io::ErrorKind::InvalidData));
        assert!(!transient_io(io::ErrorKind::NotFound));

        #[derive(Debug)]
        struct Connect(io::Error);
        impl std::fmt::Display for Connect {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("tcp connect error")
            }
        }
        impl Error for Connect {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let wrapped = Connect(io::Error::from(io::ErrorKind::ConnectionReset));
        let kinds: Vec<io::ErrorKind> = io_error_kinds(&wrapped).collect();
        assert_eq!(kinds, [io::ErrorKind::ConnectionReset]);
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(seconds(MS(312)), "0.3 s");
        assert_eq!(seconds(MS(4_460)), "4.5 s");
        assert_eq!(seconds(MS(9_960)), "10 s");
        assert_eq!(seconds(MS(30_020)), "30 s");
    }
}
