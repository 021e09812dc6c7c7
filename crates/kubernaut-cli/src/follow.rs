//! `--wait`: following a deployment until it ended, printing its log lines as they arrive, and
//! how it ended: succeeded, failed (and rolled back automatically, or not), canceled.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use kubernaut_client::{Client, DeploymentBody, DeploymentStatus};

use crate::args::Output;
use crate::error::CliError;
use crate::output;

/// How often the deployment is read: first after `FIRST_POLL`, then twice as long each time, up
/// to `POLL` (a sandbox deployment ends in milliseconds, a cluster's rollout in minutes).
const POLL: Duration = Duration::from_secs(1);
const FIRST_POLL: Duration = Duration::from_millis(50);
/// How many reads in a row may fail (server restarting, network blip) before giving up, when
/// the client does not retry (`--retry-for 0`); otherwise each read is retried until the
/// timeout.
const TOLERATED_ERRORS: u32 = 5;
/// How long a failed deployment with `--auto-rollback` is read again until its rollback is
/// recorded: the server records the failure first, then creates the rollback.
const ROLLBACK_GRACE: Duration = Duration::from_secs(5);
/// How often it is read then.
const ROLLBACK_POLL: Duration = Duration::from_millis(200);
/// How long reading the automatic rollback is retried while the server is unavailable.
const ROLLBACK_READ_BUDGET: Duration = Duration::from_secs(5);

/// Follows deployment `id` for at most `timeout`; its last state once it ended (a failed one that
/// rolls back by itself: once its rollback is recorded, for at most a few more seconds). Log
/// lines go to standard output (to standard error with `--output json`, which keeps standard
/// output for the final JSON); on a terminal a progress line with the elapsed time is kept below
/// them.
pub async fn follow(
    client: &Client,
    id: &str,
    timeout: Duration,
    output: Output,
) -> Result<DeploymentBody, CliError> {
    let started = Instant::now();
    let progress = std::io::stderr().is_terminal();
    let mut printed = 0;
    let mut errors = 0;
    let mut ended_at = None;
    let mut wait = FIRST_POLL;
    loop {
        let reader = crate::within(client, timeout.saturating_sub(started.elapsed()));
        let deployment = match reader.deployment(id).await {
            Ok(deployment) => {
                errors = 0;
                deployment
            }
            Err(error)
                if error.is_transient()
                    && errors < TOLERATED_ERRORS
                    && started.elapsed() < timeout =>
            {
                errors += 1;
                tokio::time::sleep(POLL).await;
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        let lines = deployment.log.as_deref().unwrap_or_default();
        if lines.len() > printed {
            if progress {
                eprint!("\r\x1b[2K");
            }
            for line in &lines[printed..] {
                let line = output::log_line(line);
                match output {
                    Output::Table => println!("{line}"),
                    Output::Json => eprintln!("{line}"),
                }
            }
            printed = lines.len();
        }
        let elapsed = started.elapsed();
        if deployment.status.is_terminal() {
            let ended_at = *ended_at.get_or_insert(elapsed);
            if awaits_rollback(&deployment)
                && elapsed < timeout
                && elapsed - ended_at < ROLLBACK_GRACE
            {
                tokio::time::sleep(ROLLBACK_POLL.min(timeout - elapsed)).await;
                continue;
            }
            if progress {
                eprint!("\r\x1b[2K");
            }
            return Ok(deployment);
        }
        if elapsed >= timeout {
            if progress {
                eprintln!();
            }
            return Err(CliError::TimedOut(format!(
                "timed out after {}s waiting for deployment {id} (still {}); it goes on on \
                 the server: kubernaut deployment get {id}",
                elapsed.as_secs(),
                deployment.status
            )));
        }
        if progress {
            eprint!(
                "\r\x1b[2K{} ... {}s",
                describe(deployment.status),
                elapsed.as_secs()
            );
            let _ = std::io::stderr().flush();
        }
        tokio::time::sleep(wait.min(timeout - elapsed)).await;
        wait = (wait * 2).min(POLL);
    }
}

/// Whether `deployment` failed and rolls back by itself, but neither its rollback nor a log line
/// saying why there is none is recorded yet.
fn awaits_rollback(deployment: &DeploymentBody) -> bool {
    deployment.status == DeploymentStatus::Failed
        && deployment.auto_rollback
        && deployment.rolled_back_by.is_none()
        && no_rollback_reason(deployment).is_none()
}

/// The log line of a failed deployment saying why it was not rolled back automatically.
fn no_rollback_reason(deployment: &DeploymentBody) -> Option<&str> {
    deployment
        .log
        .iter()
        .flatten()
        .rev()
        .map(|line| line.content.as_str())
        .find(|line| line.starts_with("not rolled back") || line.starts_with("cannot roll back"))
}

/// The end of a followed deployment: success, or the error that fails the pipeline (exit 3 when
/// it failed, naming its automatic rollback if any; exit 5 when it was canceled).
pub async fn conclude(
    client: &Client,
    deployment: &DeploymentBody,
    output: Output,
) -> Result<(), CliError> {
    if output == Output::Json {
        output::json(deployment);
    }
    let title = output::deployment_title(deployment);
    match deployment.status {
        DeploymentStatus::Succeeded => {
            if output == Output::Table {
                println!("{title} succeeded");
            }
            Ok(())
        }
        DeploymentStatus::Failed => Err(CliError::DeploymentFailed(format!(
            "{title} failed: {}{}",
            deployment.error.as_deref().unwrap_or("no error recorded"),
            rollback_note(client, deployment).await
        ))),
        DeploymentStatus::Canceled => Err(CliError::DeploymentCanceled(format!(
            "{title} was canceled (the objects it applied before stay)"
        ))),
        DeploymentStatus::Pending | DeploymentStatus::Applying | DeploymentStatus::RollingOut => {
            Err(CliError::Failed(format!(
                "{title} has not ended: {}",
                deployment.status
            )))
        }
    }
}

/// What became of a failed deployment's automatic rollback, as the end of its error line
/// (empty when it did not ask for one).
async fn rollback_note(client: &Client, deployment: &DeploymentBody) -> String {
    if !deployment.auto_rollback {
        return String::new();
    }
    let Some(rollback) = deployment.rolled_back_by else {
        return match no_rollback_reason(deployment) {
            Some(reason) => format!("; {reason}"),
            None => format!(
                "; its automatic rollback was not recorded within {} s (see: kubernaut \
                 deployment get {})",
                ROLLBACK_GRACE.as_secs(),
                deployment.id
            ),
        };
    };
    let reader = crate::within(client, ROLLBACK_READ_BUDGET);
    let what = match reader.deployment(&rollback.to_string()).await {
        Ok(rollback) => format!(
            " of {} version {} ({})",
            rollback.release.service.name, rollback.release.version, rollback.status
        ),
        Err(_) => String::new(),
    };
    format!(
        "; rolled back automatically by deployment {rollback}{what} (follow it with: \
         kubernaut deployment log {rollback})"
    )
}

fn describe(status: DeploymentStatus) -> &'static str {
    match status {
        DeploymentStatus::Pending => "waiting for a worker",
        DeploymentStatus::Applying => "applying",
        DeploymentStatus::RollingOut => "rolling out",
        DeploymentStatus::Succeeded => "succeeded",
        DeploymentStatus::Failed => "failed",
        DeploymentStatus::Canceled => "canceled",
    }
}
