//! The command line, as clap reads it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Ship services to Kubernetes with kubernaut: create releases, deploy them, follow rollouts.
#[derive(Debug, Parser)]
#[command(name = "kubernaut", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// The kubernaut server
    #[arg(
        long,
        global = true,
        env = "KUBERNAUT_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// How to print results: tables for people, JSON (stable, the API's bodies) for scripts
    #[arg(long, short, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// What to do
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the request failed (server unreachable, an error answer, an unreadable file)
  2  invalid arguments
  3  the deployment failed
  4  timed out waiting for the deployment (it goes on on the server)";

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
  kubernaut deploy --release 0193a1e2-... --context sandbox --wait --timeout 600")]
    Deploy(DeployArgs),
    /// Create a release and deploy it, waiting for the rollout: the one-liner for CI
    #[command(after_help = "\
Example:
  kubernaut ship --service hello-world --version \"$BUILD_NUMBER\" \\
    --template kubernetes.yaml --attr image=registry.example.com/hello-world:$BUILD_NUMBER \\
    --context prod-eu")]
    Ship(ShipArgs),
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
    /// Only this status: pending, applying, rolling_out, succeeded, failed
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

/// Which release to deploy where.
#[derive(Debug, Args)]
pub struct DeployArgs {
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
    /// The context (cluster) to deploy to
    #[arg(long)]
    pub context: String,
    /// Follow the deployment until it succeeded or failed, printing its log
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, in seconds
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
    /// How long to wait for the deployment, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
}

fn parse_attribute(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {raw:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
