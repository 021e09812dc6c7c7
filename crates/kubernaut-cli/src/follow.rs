//! `--wait`: following a deployment until it ended, printing its log lines as they arrive.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use kubernaut_client::{Client, DeploymentBody, DeploymentStatus};

use crate::args::Output;
use crate::error::CliError;
use crate::output;

/// How often the deployment is read.
const POLL: Duration = Duration::from_secs(1);
/// How many reads in a row may fail (server restarting, network blip) before giving up, when
/// the client does not retry (`--retry-for 0`); otherwise each read is retried until the
/// timeout.
const TOLERATED_ERRORS: u32 = 5;

/// Follows deployment `id` for at most `timeout`; its last state once it ended. Log lines go to
/// standard output (to standard error with `--output json`, which keeps standard output for the
/// final JSON); on a terminal a progress line with the elapsed time is kept below them.
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
        tokio::time::sleep(POLL.min(timeout - elapsed)).await;
    }
}

/// The end of a followed deployment: success, or the error that fails the pipeline.
pub fn conclude(deployment: &DeploymentBody, output: Output) -> Result<(), CliError> {
    if output == Output::Json {
        output::json(deployment);
    }
    match deployment.status {
        DeploymentStatus::Succeeded => {
            if output == Output::Table {
                println!(
                    "deployment {} of {} version {} to {} succeeded",
                    deployment.id,
                    deployment.release.service.name,
                    deployment.release.version,
                    deployment.context
                );
            }
            Ok(())
        }
        _ => Err(CliError::DeploymentFailed(format!(
            "deployment {} of {} version {} to {} failed: {}",
            deployment.id,
            deployment.release.service.name,
            deployment.release.version,
            deployment.context,
            deployment.error.as_deref().unwrap_or("no error recorded")
        ))),
    }
}

fn describe(status: DeploymentStatus) -> &'static str {
    match status {
        DeploymentStatus::Pending => "waiting for a worker",
        DeploymentStatus::Applying => "applying",
        DeploymentStatus::RollingOut => "rolling out",
        DeploymentStatus::Succeeded => "succeeded",
        DeploymentStatus::Failed => "failed",
    }
}
