//! The `kubernaut` command: creates releases, deploys them (rolls back, cancels) and follows
//! their rollouts, manages
//! API tokens and reads the audit log, through the REST API (`kubernaut-client`), sending the
//! token of `--token` / `KUBERNAUT_TOKEN`. `main.rs` only calls [`main`].

mod args;
mod attributes;
mod error;
mod follow;
mod output;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use kubernaut_client::{
    AuditFilter, Client, CreateDeployment, CreateRelease, CreateToken, DeploymentFilter,
    DeploymentStatus, Paging, ReleaseFilter, ServiceFilter, TokenFilter,
};

use crate::args::{
    AuditCommand, Cli, Command, DeploymentCommand, Output, PagingArgs, ReleaseArgs, ReleaseCommand,
    ServicesCommand, StatusArgs, TokenCommand,
};
use crate::error::CliError;

/// Parses the command line, runs the command, and turns its outcome into an exit code (see
/// `kubernaut --help`). Errors print one line on standard error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kubernaut: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if !error.is_silent() {
                eprintln!("kubernaut: {error}");
            }
            error.exit_code()
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let Cli {
        server,
        token,
        output,
        retry_for,
        command,
    } = cli;
    // An empty token (an unset CI secret) is no token: the server's 401 then gets a hint.
    let secret = token.as_ref().and_then(args::Secret::get);
    let mut client = Client::new(&server)?.with_retry_budget(Duration::from_secs(retry_for));
    if let Some(secret) = secret {
        client = client.with_token(secret)?;
    }
    dispatch(&client, output, command)
        .await
        .map_err(|error| error.with_token_hint(secret.is_some()))
}

async fn dispatch(client: &Client, output: Output, command: Command) -> Result<(), CliError> {
    match command {
        Command::Release(command) => release(client, output, command).await,
        Command::Deployment(command) => deployment(client, output, command).await,
        Command::Services(command) => services(client, output, command).await,
        Command::Contexts => {
            let page = client.contexts(Paging::default()).await?;
            output::page(output, &page, &output::CONTEXT_HEADER, output::context_row);
            Ok(())
        }
        Command::Deploy(args) => {
            let request = CreateDeployment {
                auto_rollback: args.auto_rollback.then_some(true),
                prune: args.no_prune.then_some(false),
                ..args.release.to(args.context)
            };
            let wait = args.wait.then(|| Duration::from_secs(args.timeout));
            deploy(client, output, &request, wait).await
        }
        Command::Rollback(args) => {
            let request = CreateDeployment {
                service: Some(args.service),
                namespace: args.namespace,
                context: Some(args.context),
                rollback: Some(true),
                ..CreateDeployment::default()
            };
            let wait = args.wait.then(|| Duration::from_secs(args.timeout));
            deploy(client, output, &request, wait).await
        }
        Command::Ship(args) => {
            // One JSON document on standard output: the deployment, not the release too.
            let announce = match output {
                Output::Table => Some(Output::Table),
                Output::Json => None,
            };
            let timeout = Duration::from_secs(args.timeout);
            let client_within = within(client, timeout);
            check_context(&client_within, &args.context).await?;
            let release = create_release(&client_within, announce, &args.release).await?;
            let shipment = CreateDeployment {
                release: Some(release),
                context: Some(args.context),
                auto_rollback: args.auto_rollback.then_some(true),
                prune: args.no_prune.then_some(false),
                ..CreateDeployment::default()
            };
            deploy(client, output, &shipment, Some(timeout)).await
        }
        Command::Diff(args) => {
            let request = CreateDeployment {
                prune: args.no_prune.then_some(false),
                ..args.release.to(args.context)
            };
            let dry_run = client.dry_run_deployment(&request).await?;
            output::dry_run(output, &dry_run);
            if dry_run.objects.iter().all(output::is_unchanged) {
                Ok(())
            } else {
                Err(CliError::WouldChange)
            }
        }
        Command::Status(args) => status(client, output, args).await,
        Command::Token(command) => token(client, output, command).await,
        Command::Whoami => {
            output::whoami(output, &client.whoami().await?);
            Ok(())
        }
        Command::Audit(command) => audit(client, output, command).await,
    }
}

/// `client`, retrying for `timeout` instead of `--retry-for`, for the requests of a command
/// with a `--timeout`; `--retry-for 0` disables retrying there too.
pub(crate) fn within(client: &Client, timeout: Duration) -> Client {
    if client.retry_budget().is_zero() {
        client.clone()
    } else {
        client.clone().with_retry_budget(timeout)
    }
}

fn paging(args: &PagingArgs) -> Paging {
    Paging {
        limit: args.limit,
        offset: args.offset,
    }
}

async fn release(client: &Client, output: Output, command: ReleaseCommand) -> Result<(), CliError> {
    match command {
        ReleaseCommand::Create(args) => create_release(client, Some(output), &args).await.map(drop),
        ReleaseCommand::List(args) => {
            let filter = ReleaseFilter {
                service: args.service,
                namespace: args.namespace,
                version: args.version,
            };
            let page = client.releases(&filter, paging(&args.paging)).await?;
            output::page(output, &page, &output::RELEASE_HEADER, output::release_row);
            Ok(())
        }
        ReleaseCommand::Get(id) => {
            output::release(output, &client.release(&id.id).await?);
            Ok(())
        }
        ReleaseCommand::Delete(id) => {
            client.delete_release(&id.id).await?;
            if output == Output::Table {
                println!("release {} deleted", id.id);
            }
            Ok(())
        }
    }
}

/// Creates the release, printed in `output` if any; its id.
async fn create_release(
    client: &Client,
    output: Option<Output>,
    args: &ReleaseArgs,
) -> Result<String, CliError> {
    let template = std::fs::read_to_string(&args.template).map_err(|e| {
        CliError::Failed(format!(
            "cannot read template {}: {e}",
            args.template.display()
        ))
    })?;
    let request = CreateRelease {
        service: Some(args.service.clone()),
        namespace: args.namespace.clone(),
        version: Some(args.version.clone()),
        template: Some(template),
        attributes: attributes::collect(args.attr_file.as_deref(), &args.attributes)?,
    };
    let created = client.create_release(&request).await?;
    let release = &created.body;
    for warning in &release.warnings {
        eprintln!("kubernaut: warning: {warning}");
    }
    match output {
        None => {}
        Some(Output::Json) => output::json(release),
        Some(Output::Table) => println!(
            "release {} of {} version {} {}",
            release.id,
            release.service.name,
            release.version,
            if created.created {
                "created"
            } else {
                "already exists with the same template and attributes"
            }
        ),
    }
    Ok(release.id.to_string())
}

/// Creates the deployment (`deploy`, `rollback`, `ship`); with a `wait` (`--wait`,
/// `--timeout`), follows it to its end.
async fn deploy(
    client: &Client,
    output: Output,
    request: &CreateDeployment,
    wait: Option<Duration>,
) -> Result<(), CliError> {
    let deployment = client.create_deployment(request, None).await?;
    let Some(timeout) = wait else {
        match output {
            Output::Json => output::json(&deployment),
            Output::Table => println!(
                "{}: {} (follow it with: kubernaut deployment log {})",
                output::deployment_title(&deployment),
                deployment.status,
                deployment.id
            ),
        }
        return Ok(());
    };
    let id = deployment.id.to_string();
    let ended = follow::follow(client, &id, timeout, output).await?;
    follow::conclude(client, &ended, output).await
}

async fn deployment(
    client: &Client,
    output: Output,
    command: DeploymentCommand,
) -> Result<(), CliError> {
    match command {
        DeploymentCommand::List(args) => {
            let filter = DeploymentFilter {
                service: args.service,
                namespace: args.namespace,
                version: args.version,
                context: args.context,
                status: args.status,
                release: args.release,
            };
            let page = client.deployments(&filter, paging(&args.paging)).await?;
            output::page(
                output,
                &page,
                &output::DEPLOYMENT_HEADER,
                output::deployment_row,
            );
        }
        DeploymentCommand::Get(id) => {
            output::deployment(output, &client.deployment(&id.id).await?);
        }
        DeploymentCommand::Cancel(id) => {
            let deployment = client.cancel_deployment(&id.id).await?;
            match output {
                Output::Json => output::json(&deployment),
                Output::Table if deployment.status == DeploymentStatus::Canceled => {
                    println!("{}: canceled", output::deployment_title(&deployment));
                }
                Output::Table if deployment.status.is_terminal() => println!(
                    "{}: {} (it ended before the cancel took effect)",
                    output::deployment_title(&deployment),
                    deployment.status
                ),
                Output::Table => println!(
                    "{}: {}, canceling: it stops before its next step (see: kubernaut \
                     deployment get {})",
                    output::deployment_title(&deployment),
                    deployment.status,
                    deployment.id
                ),
            }
        }
        DeploymentCommand::Log(id) => {
            let deployment = client.deployment(&id.id).await?;
            let lines = deployment.log.unwrap_or_default();
            match output {
                Output::Json => output::json(&lines),
                Output::Table => {
                    for line in &lines {
                        println!("{}", output::log_line(line));
                    }
                }
            }
        }
    }
    Ok(())
}

async fn services(
    client: &Client,
    output: Output,
    command: ServicesCommand,
) -> Result<(), CliError> {
    match command {
        ServicesCommand::List(args) => {
            let filter = ServiceFilter {
                name: args.name,
                namespace: args.namespace,
            };
            let page = client.services(&filter, paging(&args.paging)).await?;
            output::page(output, &page, &output::SERVICE_HEADER, output::service_row);
        }
        ServicesCommand::Get(id) => output::service(output, &client.service(&id.id).await?),
    }
    Ok(())
}

/// Fails, before anything is created, when the server has no context `name`.
async fn check_context(client: &Client, name: &str) -> Result<(), CliError> {
    let contexts = client
        .contexts(Paging {
            limit: Some(1000),
            offset: None,
        })
        .await?;
    if contexts.items.iter().any(|context| context.name == name) {
        return Ok(());
    }
    let known: Vec<&str> = contexts.items.iter().map(|c| c.name.as_str()).collect();
    Err(CliError::Failed(format!(
        "context {name} is not configured on the server (it has: {}); nothing was released",
        if known.is_empty() {
            "none".to_owned()
        } else {
            known.join(", ")
        }
    )))
}

/// `status`: finds the service by name and namespace, then reads its objects in the context.
async fn status(client: &Client, output: Output, args: StatusArgs) -> Result<(), CliError> {
    let namespace = args.namespace.unwrap_or_else(|| "default".to_owned());
    let filter = ServiceFilter {
        name: Some(args.service.clone()),
        namespace: Some(namespace.clone()),
    };
    let services = client.services(&filter, Paging::default()).await?;
    let service = services.items.first().ok_or_else(|| {
        CliError::Failed(format!(
            "service {} in namespace {namespace} does not exist (or the token may not read \
             that namespace)",
            args.service
        ))
    })?;
    let live = client
        .live_objects(&service.id.to_string(), &args.context)
        .await?;
    output::live(output, &live, &args.service, &namespace);
    Ok(())
}

async fn token(client: &Client, output: Output, command: TokenCommand) -> Result<(), CliError> {
    match command {
        TokenCommand::Create(args) => {
            let request = CreateToken {
                name: Some(args.name),
                grants: Some(args.grants),
                expires_in_days: args.expires_in_days,
            };
            output::created_token(output, &client.create_token(&request).await?);
        }
        TokenCommand::List(args) => {
            let filter = TokenFilter {
                name: args.name,
                revoked: args.revoked,
            };
            let page = client.tokens(&filter, paging(&args.paging)).await?;
            output::page(output, &page, &output::TOKEN_HEADER, output::token_row);
        }
        TokenCommand::Get(id) => output::token(output, &client.token(&id.id).await?),
        TokenCommand::Revoke(id) => {
            client.revoke_token(&id.id).await?;
            if output == Output::Table {
                println!("token {} revoked", id.id);
            }
        }
    }
    Ok(())
}

async fn audit(client: &Client, output: Output, command: AuditCommand) -> Result<(), CliError> {
    match command {
        AuditCommand::List(args) => {
            let filter = AuditFilter {
                actor: args.actor,
                action: args.action,
                resource_type: args.resource_type,
                resource_id: args.resource_id,
                namespace: args.namespace,
                context: args.context,
                since: args.since,
                until: args.until,
            };
            let page = client.audit(&filter, paging(&args.paging)).await?;
            output::page(output, &page, &output::AUDIT_HEADER, output::audit_row);
        }
        AuditCommand::Verify => {
            let verified = client.verify_audit().await?;
            match output {
                Output::Json => output::json(&verified),
                Output::Table if verified.ok => {
                    println!("audit log intact: {} events verified", verified.events);
                }
                Output::Table => {}
            }
            if !verified.ok {
                return Err(CliError::Failed(match verified.first_bad_event {
                    Some(id) => format!(
                        "audit log altered: event {id} does not match the hash chain ({} \
                         events checked)",
                        verified.events
                    ),
                    None => format!(
                        "audit log altered ({} events checked; the server named no event)",
                        verified.events
                    ),
                }));
            }
        }
    }
    Ok(())
}
