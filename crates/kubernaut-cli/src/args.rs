//! The command line, as clap reads it.

use std::convert::Infallible;
use std::fmt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kubernaut_client::{CreateDeployment, GrantBody};

/// Ship services to Kubernetes with kubernaut: create releases, deploy them, follow rollouts.
#[derive(Debug, Parser)]
#[command(name = "kubernaut", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// The kubernaut server
    #[arg(
        long,
        global = true,
        env = "KUBERNAUT_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// The API token sent with every request (prefer the environment variable: arguments show
    /// in process lists and shell history)
    #[arg(
        long,
        global = true,
        env = "KUBERNAUT_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        value_parser = secret
    )]
    pub token: Option<Secret>,
    /// How to print results: tables for people, JSON (stable, the API's bodies) for scripts
    #[arg(long, short, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// How long to retry a request while the server is unavailable (it answers 503, e.g. while
    /// its database restarts, or cannot be reached), in seconds; 0 disables retrying. Only
    /// requests safe to repeat are retried (reads, release create, deletes); deploy --wait,
    /// rollback --wait and ship retry until their --timeout instead
    #[arg(
        long,
        global = true,
        env = "KUBERNAUT_RETRY_FOR",
        value_name = "SECS",
        default_value_t = 30
    )]
    pub retry_for: u64,
    /// What to do
    #[command(subcommand)]
    pub command: Command,
}

const AFTER_HELP: &str = "\
Authentication:
  Every command sends an API token: --token or KUBERNAUT_TOKEN. Admins create scoped tokens
  with `kubernaut token create`; `kubernaut whoami` shows what a token may do.

Unavailable server:
  While the server answers 503 (its database is unavailable) or cannot be reached, requests
  that are safe to repeat (reads, release create, deletes) are retried with backoff, at least
  as long apart as the server's Retry-After: for --retry-for seconds (KUBERNAUT_RETRY_FOR,
  default 30; 0 disables), in deploy --wait, rollback --wait and ship until their --timeout.
  Creating or canceling a deployment and creating a token are never retried. A request that
  still fails says how long it tried.

Exit codes:
  0  success
  1  the request failed (server unreachable, an error answer such as a missing or refused
     token (401, 403), an unreadable file), or `audit verify` found a tampered audit log
  2  invalid arguments
  3  the deployment failed (also when --auto-rollback rolled it back)
  4  timed out waiting for the deployment (it goes on on the server)
  5  the deployment was canceled; for diff: something would change";

/// A token as given: its `Debug` output does not show it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The token, `None` if empty (an unset CI secret is often an empty variable).
    pub fn get(&self) -> Option<&str> {
        Some(self.0.as_str()).filter(|token| !token.is_empty())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A token, without the whitespace around it (a secret file's trailing newline).
fn secret(raw: &str) -> Result<Secret, Infallible> {
    Ok(Secret(raw.trim().to_owned()))
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned columns and readable lines
    Table,
    /// JSON, as the API answers
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, show and delete releases
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// List and show deployments and their logs
    #[command(subcommand)]
    Deployment(DeploymentCommand),
    /// List the services
    #[command(subcommand)]
    Services(ServicesCommand),
    /// List the contexts (clusters) deployments can target
    #[command(after_help = "Example:\n  kubernaut contexts")]
    Contexts,
    /// Deploy a release to a context
    #[command(after_help = "\
Examples:
  kubernaut deploy --service hello-world --version 42 --context prod-eu --wait
  kubernaut deploy --release 0193a1e2-... --context sandbox --wait --timeout 600
  kubernaut deploy --service hello-world --version 43 --context prod-eu --auto-rollback --wait")]
    Deploy(DeployArgs),
    /// Deploy the last good release of a service to a context again
    #[command(after_help = "\
The release is that of the newest succeeded deployment of the service to the context, other
than the release deployed last when that deployment succeeded (like kubectl rollout undo);
after a failed or canceled deployment it is the newest release that succeeded. With no such
release the server refuses (exit 1).

Examples:
  kubernaut rollback --service hello-world --context prod-eu --wait
  kubernaut rollback --service jobs-api --namespace jobs --context prod-eu --wait --timeout 600")]
    Rollback(RollbackArgs),
    /// Create a release and deploy it, waiting for the rollout: the one-liner for CI
    #[command(after_help = "\
Example:
  kubernaut ship --service hello-world --version \"$BUILD_NUMBER\" \\
    --template kubernetes.yaml --attr image=registry.example.com/hello-world:$BUILD_NUMBER \\
    --context prod-eu --auto-rollback")]
    Ship(ShipArgs),
    /// Show what deploying a release would change, applying nothing (like kubectl diff)
    #[command(after_help = "\
Prints, per object, what deploying would do: create, configure, unchanged, or prune (an object
of the service that the release no longer holds, deleted after a successful rollout unless
--no-prune), each with the unified diff of the live object and the result. With --output json:
the server's dry-run body, manifest included.

Exit codes (like kubectl diff):
  0  every object is unchanged and nothing would be pruned
  5  something would change
  1  the dry run failed (an unknown release or context, a refused token or object, ...)
  2  invalid arguments

Examples:
  kubernaut diff --service hello-world --version 43 --context prod-eu
  kubernaut diff --release 0193a1e2-... --context prod-eu --no-prune
  kubernaut -o json diff --service jobs-api --namespace jobs --version 7 --context prod-eu")]
    Diff(DiffArgs),
    /// Show a service's objects in a context as the cluster has them, with their health
    #[command(after_help = "\
The objects are those kubernaut deployed for the service in the context (its ApplySet), each
with its health (healthy, progressing, degraded or unknown) and why. Exit 0 when they could be
read, whatever their health; 1 on error (an unknown service or context, a refused token).

Examples:
  kubernaut status --service hello-world --context prod-eu
  kubernaut -o json status --service jobs-api --namespace jobs --context prod-eu")]
    Status(StatusArgs),
    /// Create, list, show and revoke API tokens (global admins)
    #[command(subcommand)]
    Token(TokenCommand),
    /// Show the token in use: its name, grants and expiry
    #[command(after_help = "Example:\n  KUBERNAUT_TOKEN=knt_... kubernaut whoami")]
    Whoami,
    /// Read and verify the audit log (global admins)
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// `kubernaut release ...`
#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Create a release from a template file and attributes
    #[command(after_help = "\
Examples:
  kubernaut release create --service hello-world --version 42 --template kubernetes.yaml \\
    --attr image=registry.example.com/hello-world:42 --attr commit=3f2a9c1
  kubernaut release create --service jobs-api --namespace jobs --version 7 \\
    --template k8s.yaml --attr-file release.env")]
    Create(ReleaseArgs),
    /// List releases, newest first
    #[command(after_help = "Example:\n  kubernaut release list --service hello-world --limit 10")]
    List(ReleaseListArgs),
    /// Show a release with its template
    #[command(after_help = "Example:\n  kubernaut release get 0193a1e2-...")]
    Get(IdArg),
    /// Delete a release (soft: its deployments keep their history)
    #[command(after_help = "Example:\n  kubernaut release delete 0193a1e2-...")]
    Delete(IdArg),
}

/// `kubernaut deployment ...`
#[derive(Debug, Subcommand)]
pub enum DeploymentCommand {
    /// List deployments, newest first
    #[command(
        after_help = "Example:\n  kubernaut deployment list --service hello-world --status failed"
    )]
    List(DeploymentListArgs),
    /// Show a deployment: status, error, manifest
    #[command(after_help = "Example:\n  kubernaut deployment get 0193a1e2-...")]
    Get(IdArg),
    /// Print a deployment's log
    #[command(after_help = "Example:\n  kubernaut deployment log 0193a1e2-...")]
    Log(IdArg),
    /// Cancel a deployment: a pending one at once, a running one before its next object or
    /// rollout check (the objects it applied stay); refused when it already ended
    #[command(after_help = "Example:\n  kubernaut deployment cancel 0193a1e2-...")]
    Cancel(IdArg),
}

/// `kubernaut services ...`
#[derive(Debug, Subcommand)]
pub enum ServicesCommand {
    /// List services, newest first
    #[command(after_help = "Example:\n  kubernaut services list --namespace jobs")]
    List(ServiceListArgs),
    /// Show a service, its latest release and its latest deployment per context
    #[command(after_help = "Example:\n  kubernaut services get 0193a1e2-...")]
    Get(IdArg),
}

/// `kubernaut token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret, which is shown this once
    #[command(after_help = "\
Grants are ROLE:NAMESPACE[:CONTEXT]. Roles: viewer (reads), releaser (viewer, and creates
releases), deployer (releaser, and deploys and cancels), admin (deployer, and deletes).
NAMESPACE and CONTEXT are a name, `*`, or a prefix ending in `*`; CONTEXT defaults to `*` and
may itself contain colons (arn:aws:eks:...:cluster/prod). Only a global admin (a grant
admin:*) manages tokens and reads the audit log.

Examples:
  kubernaut token create --name ci-hello-world --grant 'deployer:default:staging-*' \\
    --grant 'viewer:*' --expires-in-days 30
  kubernaut token create --name ci-jobs --grant deployer:jobs:arn:aws:eks:eu-west-1:1234:cluster/prod
  kubernaut -o json token create --name ci-x --grant releaser:default | jq -r .token")]
    Create(TokenCreateArgs),
    /// List tokens, newest first (without their secrets)
    #[command(after_help = "Example:\n  kubernaut token list --revoked false")]
    List(TokenListArgs),
    /// Show a token
    #[command(after_help = "Example:\n  kubernaut token get 0193a1e2-...")]
    Get(IdArg),
    /// Revoke a token: it stops working within seconds
    #[command(after_help = "Example:\n  kubernaut token revoke 0193a1e2-...")]
    Revoke(IdArg),
}

/// `kubernaut audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit events, newest first
    #[command(after_help = "\
Examples:
  kubernaut audit list --actor ci-hello-world --since 2025-01-31T00:00:00Z
  kubernaut audit list --action access.denied --limit 20
  kubernaut -o json audit list --resource-type deployment --context prod-eu")]
    List(Box<AuditListArgs>),
    /// Check the audit log's hash chain: exit 0 when intact, 1 naming the first altered event
    #[command(after_help = "Example:\n  kubernaut audit verify")]
    Verify,
}

/// One record's id.
#[derive(Debug, Args)]
pub struct IdArg {
    /// The id
    pub id: String,
}

/// Paging of a list.
#[derive(Debug, Args)]
pub struct PagingArgs {
    /// At most this many items (1 to 1000; default 50)
    #[arg(long)]
    pub limit: Option<u32>,
    /// Skip this many items
    #[arg(long)]
    pub offset: Option<u64>,
}

/// What a release is made of.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The service's name
    #[arg(long)]
    pub service: String,
    /// The service's namespace [default: default]
    #[arg(long)]
    pub namespace: Option<String>,
    /// The version (a build number, a git SHA, semver)
    #[arg(long)]
    pub version: String,
    /// The mustache template of the Kubernetes manifest
    #[arg(long, value_name = "FILE")]
    pub template: PathBuf,
    /// An attribute rendered into the template; repeatable; wins over --attr-file
    #[arg(long = "attr", value_name = "NAME=VALUE", value_parser = parse_attribute)]
    pub attributes: Vec<(String, String)>,
    /// Attributes from a file: NAME=VALUE lines (# comments) or a YAML mapping
    #[arg(long, value_name = "FILE")]
    pub attr_file: Option<PathBuf>,
}

/// Filters of `release list`.
#[derive(Debug, Args)]
pub struct ReleaseListArgs {
    /// Only this service
    #[arg(long)]
    pub service: Option<String>,
    /// Only this namespace
    #[arg(long)]
    pub namespace: Option<String>,
    /// Only this version
    #[arg(long)]
    pub version: Option<String>,
    /// Paging
    #[command(flatten)]
    pub paging: PagingArgs,
}

/// Filters of `deployment list`.
#[derive(Debug, Args)]
pub struct DeploymentListArgs {
    /// Only this service
    #[arg(long)]
    pub service: Option<String>,
    /// Only this namespace
    #[arg(long)]
    pub namespace: Option<String>,
    /// Only this version
    #[arg(long)]
    pub version: Option<String>,
    /// Only this context
    #[arg(long)]
    pub context: Option<String>,
    /// Only this status: pending, applying, rolling_out, succeeded, failed, canceled
    #[arg(long)]
    pub status: Option<String>,
    /// Only this release (an id)
    #[arg(long)]
    pub release: Option<String>,
    /// Paging
    #[command(flatten)]
    pub paging: PagingArgs,
}

/// Filters of `services list`.
#[derive(Debug, Args)]
pub struct ServiceListArgs {
    /// Only this name
    #[arg(long)]
    pub name: Option<String>,
    /// Only this namespace
    #[arg(long)]
    pub namespace: Option<String>,
    /// Paging
    #[command(flatten)]
    pub paging: PagingArgs,
}

/// What a new token is.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The token's name, recorded as the author of its changes (1 to 63 of a-z 0-9 . _ -)
    #[arg(long)]
    pub name: String,
    /// What it may do; repeatable, at least one
    #[arg(
        long = "grant",
        value_name = "ROLE:NAMESPACE[:CONTEXT]",
        required = true,
        value_parser = parse_grant
    )]
    pub grants: Vec<GrantBody>,
    /// Days until it expires (1 to 3650) [default: 90]
    #[arg(long, value_name = "DAYS")]
    pub expires_in_days: Option<i64>,
}

/// Filters of `token list`.
#[derive(Debug, Args)]
pub struct TokenListArgs {
    /// Only this name
    #[arg(long)]
    pub name: Option<String>,
    /// Only revoked tokens (true) or only those not revoked (false)
    #[arg(long)]
    pub revoked: Option<bool>,
    /// Paging
    #[command(flatten)]
    pub paging: PagingArgs,
}

/// Filters of `audit list`.
#[derive(Debug, Args)]
pub struct AuditListArgs {
    /// Only changes by this token name
    #[arg(long)]
    pub actor: Option<String>,
    /// Only this action: release.create, release.delete, deployment.create, deployment.delete,
    /// deployment.cancel, token.create, token.revoke, access.denied
    #[arg(long)]
    pub action: Option<String>,
    /// Only this kind of record: release, deployment, token, ...
    #[arg(long)]
    pub resource_type: Option<String>,
    /// Only this record (an id)
    #[arg(long)]
    pub resource_id: Option<String>,
    /// Only this namespace
    #[arg(long)]
    pub namespace: Option<String>,
    /// Only this context
    #[arg(long)]
    pub context: Option<String>,
    /// Only events from this instant on (RFC 3339: 2025-01-31T00:00:00Z)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events up to this instant (RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Paging
    #[command(flatten)]
    pub paging: PagingArgs,
}

/// Which release: its id, or a service's version.
#[derive(Debug, Args)]
pub struct ReleaseSelector {
    /// The release's id
    #[arg(long, required_unless_present = "service", conflicts_with_all = ["service", "version", "namespace"])]
    pub release: Option<String>,
    /// The service's name (with --version)
    #[arg(long, requires = "version")]
    pub service: Option<String>,
    /// The service's namespace [default: default]
    #[arg(long, requires = "service")]
    pub namespace: Option<String>,
    /// The version (with --service)
    #[arg(long, requires = "service")]
    pub version: Option<String>,
}

impl ReleaseSelector {
    /// A deployment request for this release to `context`.
    pub fn to(self, context: String) -> CreateDeployment {
        CreateDeployment {
            release: self.release,
            service: self.service,
            namespace: self.namespace,
            version: self.version,
            context: Some(context),
            ..CreateDeployment::default()
        }
    }
}

/// Which release to deploy where.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Which release
    #[command(flatten)]
    pub release: ReleaseSelector,
    /// The context (cluster) to deploy to
    #[arg(long)]
    pub context: String,
    /// Should the deployment fail, deploy the last good release by itself (see `kubernaut
    /// rollback --help`); the failure still exits 3
    #[arg(long)]
    pub auto_rollback: bool,
    /// Keep the service's objects that the manifest no longer holds (by default they are
    /// deleted after a successful rollout)
    #[arg(long)]
    pub no_prune: bool,
    /// Follow the deployment until it ended, printing its log
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, in seconds (reading the deployment is retried within it while
    /// the server is unavailable)
    #[arg(long, value_name = "SECS", default_value_t = 600, requires = "wait")]
    pub timeout: u64,
}

/// Which release to dry-run where.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Which release
    #[command(flatten)]
    pub release: ReleaseSelector,
    /// The context (cluster) to compare with
    #[arg(long)]
    pub context: String,
    /// Leave out the service's objects that the release no longer holds (as deploy --no-prune
    /// would keep them)
    #[arg(long)]
    pub no_prune: bool,
}

/// Which service's objects to show where.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The service's name
    #[arg(long)]
    pub service: String,
    /// The service's namespace [default: default]
    #[arg(long)]
    pub namespace: Option<String>,
    /// The context (cluster) to read
    #[arg(long)]
    pub context: String,
}

/// Which service to roll back where.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The service's name
    #[arg(long)]
    pub service: String,
    /// The service's namespace [default: default]
    #[arg(long)]
    pub namespace: Option<String>,
    /// The context (cluster) to roll back in
    #[arg(long)]
    pub context: String,
    /// Follow the rollback until it ended, printing its log
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, in seconds (reading the deployment is retried within it while
    /// the server is unavailable)
    #[arg(long, value_name = "SECS", default_value_t = 600, requires = "wait")]
    pub timeout: u64,
}

/// A release and where to ship it.
#[derive(Debug, Args)]
pub struct ShipArgs {
    /// The release
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// The context (cluster) to deploy to
    #[arg(long)]
    pub context: String,
    /// Should the deployment fail, deploy the last good release by itself (see `kubernaut
    /// rollback --help`); the failure still exits 3
    #[arg(long)]
    pub auto_rollback: bool,
    /// Keep the service's objects that the manifest no longer holds (by default they are
    /// deleted after a successful rollout)
    #[arg(long)]
    pub no_prune: bool,
    /// How long to wait for the deployment, in seconds (creating the release and reading the
    /// deployment are each retried within it while the server is unavailable)
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
}

fn parse_attribute(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {raw:?}")),
    }
}

/// `ROLE:NAMESPACE[:CONTEXT]`, split at the first two colons only: context names such as
/// `arn:aws:eks:eu-west-1:1234:cluster/prod` contain colons. The server checks the parts.
fn parse_grant(raw: &str) -> Result<GrantBody, String> {
    let mut parts = raw.splitn(3, ':');
    let (role, namespace, context) = (parts.next(), parts.next(), parts.next());
    match (role, namespace, context) {
        (Some(role), Some(namespace), context)
            if !role.is_empty()
                && !namespace.is_empty()
                && context.is_none_or(|c| !c.is_empty()) =>
        {
            Ok(GrantBody {
                role: role.to_owned(),
                namespace: namespace.to_owned(),
                context: context.map(str::to_owned),
            })
        }
        _ => Err(format!(
            "expected ROLE:NAMESPACE or ROLE:NAMESPACE:CONTEXT (e.g. deployer:default:staging-*), \
             got {raw:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: &str, namespace: &str, context: Option<&str>) -> GrantBody {
        GrantBody {
            role: role.to_owned(),
            namespace: namespace.to_owned(),
            context: context.map(str::to_owned),
        }
    }

    #[test]
    fn grants_split_at_the_first_two_colons() {
        assert_eq!(parse_grant("viewer:*"), Ok(grant("viewer", "*", None)));
        assert_eq!(
            parse_grant("deployer:default:staging-*"),
            Ok(grant("deployer", "default", Some("staging-*")))
        );
        assert_eq!(
            parse_grant("deployer:jobs:arn:aws:eks:eu-west-1:1234:cluster/prod"),
            Ok(grant(
                "deployer",
                "jobs",
                Some("arn:aws:eks:eu-west-1:1234:cluster/prod")
            ))
        );
        for bad in ["admin", "", ":default", "admin:", "admin::x", "admin:*:"] {
            assert!(parse_grant(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_are_trimmed_and_hidden_from_debug_output() {
        let token = secret(" knt_abc\n").unwrap();
        assert_eq!(token.get(), Some("knt_abc"));
        assert_eq!(format!("{token:?}"), "Secret(..)");
        assert_eq!(secret("").unwrap().get(), None);
        assert_eq!(secret("  ").unwrap().get(), None);
    }

    #[test]
    fn attributes_split_at_the_first_equals_sign() {
        assert_eq!(
            parse_attribute("url=https://x/?a=b"),
            Ok(("url".to_owned(), "https://x/?a=b".to_owned()))
        );
        assert_eq!(
            parse_attribute("empty="),
            Ok(("empty".to_owned(), String::new()))
        );
        assert!(parse_attribute("novalue").is_err());
        assert!(parse_attribute("=x").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
