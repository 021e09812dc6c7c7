//! Printing results: aligned tables and readable lines for people, JSON for scripts.

use comfy_table::presets::NOTHING;
use comfy_table::{ContentArrangement, Table};
use kubernaut_client::{
    AuditEventBody, ContextBody, DeploymentBody, DeploymentStatus, DryRunBody, DryRunObjectBody,
    GrantBody, LiveBody, LogLineBody, PageBody, ReleaseBody, ServiceBody, ServiceDetailBody,
    Stream, TokenBody, WhoamiBody,
};
use serde::Serialize;

use crate::args::Output;

/// Prints `value` as pretty JSON.
pub fn json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(error) => eprintln!("kubernaut: cannot print JSON: {error}"),
    }
}

/// Prints a page: the items as a table (with a count line when the page is partial), or the
/// whole page body as JSON.
pub fn page<T: Serialize>(
    output: Output,
    page: &PageBody<T>,
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) {
    match output {
        Output::Json => json(page),
        Output::Table => {
            let mut table = Table::new();
            table
                .load_preset(NOTHING)
                .set_content_arrangement(ContentArrangement::Disabled)
                .set_header(header.iter().copied());
            for item in &page.items {
                table.add_row(row(item));
            }
            println!("{}", trim_lines(&table.to_string()));
            let shown = page.items.len() as u64;
            if shown < page.count {
                println!(
                    "({shown} of {}, from offset {}; use --limit and --offset for more)",
                    page.count, page.offset
                );
            }
        }
    }
}

fn trim_lines(text: &str) -> String {
    text.lines()
        .map(|line| line.trim())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Columns of a release list.
pub const RELEASE_HEADER: [&str; 5] = ["ID", "SERVICE", "NAMESPACE", "VERSION", "CREATED"];

/// A release as a row.
pub fn release_row(release: &ReleaseBody) -> Vec<String> {
    vec![
        release.id.to_string(),
        release.service.name.clone(),
        release.service.namespace.clone(),
        release.version.clone(),
        release.created_on.clone(),
    ]
}

/// Columns of a deployment list.
pub const DEPLOYMENT_HEADER: [&str; 7] = [
    "ID", "SERVICE", "VERSION", "CONTEXT", "STATUS", "CREATED", "ROLLBACK",
];

/// A deployment as a row; the last column says whether it is a rollback (`yes`), which
/// deployment rolled it back (`by ID`), or that it rolls back by itself if it fails (`auto`).
pub fn deployment_row(deployment: &DeploymentBody) -> Vec<String> {
    let rollback = match (deployment.rolled_back_by, deployment.rollback) {
        (Some(by), _) => format!("by {by}"),
        (None, true) => "yes".to_owned(),
        (None, false) if deployment.auto_rollback => "auto".to_owned(),
        (None, false) => "-".to_owned(),
    };
    vec![
        deployment.id.to_string(),
        deployment.release.service.name.clone(),
        deployment.release.version.clone(),
        deployment.context.clone(),
        deployment.status.to_string(),
        deployment.created_on.clone(),
        rollback,
    ]
}

/// `deployment ID of SERVICE version VERSION to CONTEXT`, with ` (a rollback)` for one: how
/// messages name a deployment.
pub fn deployment_title(deployment: &DeploymentBody) -> String {
    format!(
        "deployment {} of {} version {} to {}{}",
        deployment.id,
        deployment.release.service.name,
        deployment.release.version,
        deployment.context,
        if deployment.rollback {
            " (a rollback)"
        } else {
            ""
        }
    )
}

/// Columns of a service list.
pub const SERVICE_HEADER: [&str; 4] = ["ID", "NAME", "NAMESPACE", "CREATED"];

/// A service as a row.
pub fn service_row(service: &ServiceBody) -> Vec<String> {
    vec![
        service.id.to_string(),
        service.name.clone(),
        service.namespace.clone(),
        service.created_on.clone(),
    ]
}

/// Columns of the context list.
pub const CONTEXT_HEADER: [&str; 2] = ["NAME", "KIND"];

/// A context as a row.
pub fn context_row(context: &ContextBody) -> Vec<String> {
    vec![context.name.clone(), context.kind.clone()]
}

/// Columns of a token list.
pub const TOKEN_HEADER: [&str; 6] = ["ID", "NAME", "GRANTS", "EXPIRES", "LAST USED", "REVOKED"];

/// A token as a row.
pub fn token_row(token: &TokenBody) -> Vec<String> {
    vec![
        token.id.to_string(),
        token.name.clone(),
        grants(&token.grants),
        or(token.expires_on.as_deref(), "never"),
        or(token.last_used_on.as_deref(), "never"),
        or(token.revoked_on.as_deref(), "-"),
    ]
}

/// Columns of an audit event list.
pub const AUDIT_HEADER: [&str; 7] = [
    "ID",
    "AT",
    "ACTOR",
    "ACTION",
    "RESOURCE",
    "NAMESPACE",
    "CONTEXT",
];

/// An audit event as a row; the resource as `type/id`.
pub fn audit_row(event: &AuditEventBody) -> Vec<String> {
    let resource = match &event.resource_id {
        Some(id) => format!("{}/{id}", event.resource_type),
        None => event.resource_type.clone(),
    };
    vec![
        event.id.to_string(),
        event.at.clone(),
        event.actor.clone(),
        event.action.clone(),
        resource,
        or(event.namespace.as_deref(), "-"),
        or(event.context.as_deref(), "-"),
    ]
}

/// A grant as `--grant` takes it: `ROLE:NAMESPACE:CONTEXT` (`*` for an absent context).
pub fn grant(grant: &GrantBody) -> String {
    format!(
        "{}:{}:{}",
        grant.role,
        grant.namespace,
        grant.context.as_deref().unwrap_or("*")
    )
}

fn grants(grants: &[GrantBody]) -> String {
    grants.iter().map(grant).collect::<Vec<_>>().join(", ")
}

fn or(value: Option<&str>, absent: &str) -> String {
    value.unwrap_or(absent).to_owned()
}

/// Prints `label` and the grants, one a line, aligned after `indent` characters.
fn grant_lines(label: &str, indent: usize, grants: &[GrantBody]) {
    for (index, one) in grants.iter().enumerate() {
        let label = if index == 0 { label } else { "" };
        println!("{label:indent$}{}", grant(one));
    }
}

/// A token just created, with its secret: the one time it is shown.
pub fn created_token(output: Output, token: &TokenBody) {
    if output == Output::Json {
        return json(token);
    }
    println!("token {} created ({})", token.name, token.id);
    grant_lines("Grants:   ", 10, &token.grants);
    println!("Expires:  {}", or(token.expires_on.as_deref(), "never"));
    println!();
    match &token.token {
        Some(secret) => {
            println!("Its secret follows. It is shown only this once and cannot be read again:");
            println!("store it now (in CI: as the secret KUBERNAUT_TOKEN).");
            println!("{secret}");
        }
        None => println!("(the server sent no secret)"),
    }
}

/// A token, without its secret.
pub fn token(output: Output, token: &TokenBody) {
    if output == Output::Json {
        return json(token);
    }
    println!("Token:     {}", token.id);
    println!("Name:      {}", token.name);
    grant_lines("Grants:    ", 11, &token.grants);
    println!("Created:   {} by {}", token.created_on, token.created_by);
    println!("Expires:   {}", or(token.expires_on.as_deref(), "never"));
    println!("Last used: {}", or(token.last_used_on.as_deref(), "never"));
    if let Some(revoked) = &token.revoked_on {
        println!("Revoked:   {revoked}");
    }
}

/// The calling token.
pub fn whoami(output: Output, whoami: &WhoamiBody) {
    if output == Output::Json {
        return json(whoami);
    }
    println!("Token:    {}", whoami.name);
    grant_lines("Grants:   ", 10, &whoami.grants);
    println!("Expires:  {}", or(whoami.expires_on.as_deref(), "never"));
}

/// A release: its fields, attributes and template.
pub fn release(output: Output, release: &ReleaseBody) {
    if output == Output::Json {
        return json(release);
    }
    println!("Release:   {}", release.id);
    println!(
        "Service:   {} (namespace {})",
        release.service.name, release.service.namespace
    );
    println!("Version:   {}", release.version);
    println!(
        "Created:   {} by {}",
        release.created_on, release.created_by
    );
    println!("Template:  sha256 {}", release.template.checksum);
    println!("Attributes:");
    for (name, value) in &release.attributes {
        println!("  {name}={value}");
    }
    if let Some(source) = &release.template.source {
        println!("---");
        print!("{source}");
        if !source.ends_with('\n') {
            println!();
        }
    }
}

/// A deployment: its fields, error and manifest.
pub fn deployment(output: Output, deployment: &DeploymentBody) {
    if output == Output::Json {
        return json(deployment);
    }
    println!("Deployment: {}", deployment.id);
    println!(
        "Release:    {} version {} ({})",
        deployment.release.service.name, deployment.release.version, deployment.release.id
    );
    println!(
        "Context:    {} (namespace {})",
        deployment.context, deployment.namespace
    );
    println!("Status:     {}", deployment.status);
    if let Some(error) = &deployment.error {
        println!("Error:      {error}");
    }
    if deployment.rollback {
        println!("Rollback:   yes, it puts back an earlier release");
    }
    match deployment.rolled_back_by {
        Some(by) => println!("Rollback:   rolled back by deployment {by}"),
        None if deployment.auto_rollback && deployment.status == DeploymentStatus::Failed => {
            println!("Rollback:   automatic, but none was made (its log says why)");
        }
        None if deployment.auto_rollback => println!("Rollback:   automatic, should it fail"),
        None => {}
    }
    println!(
        "Created:    {} by {}",
        deployment.created_on, deployment.created_by
    );
    if let Some(started) = &deployment.started_on {
        println!("Started:    {started}");
    }
    if let Some(finished) = &deployment.finished_on {
        println!("Finished:   {finished}");
    }
    if let Some(manifest) = &deployment.manifest {
        println!("---");
        print!("{manifest}");
        if !manifest.ends_with('\n') {
            println!();
        }
    }
}

/// A service with its latest release and deployments.
pub fn service(output: Output, service: &ServiceDetailBody) {
    if output == Output::Json {
        return json(service);
    }
    println!(
        "Service:   {} (namespace {})",
        service.service.name, service.service.namespace
    );
    println!("Id:        {}", service.service.id);
    match &service.latest_release {
        Some(release) => println!("Latest:    version {} ({})", release.version, release.id),
        None => println!("Latest:    no release"),
    }
    if service.latest_deployments.is_empty() {
        println!("Deployed:  nowhere");
        return;
    }
    let mut table = Table::new();
    table.load_preset(NOTHING).set_header([
        "CONTEXT",
        "VERSION",
        "STATUS",
        "DEPLOYMENT",
        "CREATED",
    ]);
    for (context, deployment) in &service.latest_deployments {
        table.add_row([
            context.clone(),
            deployment.release.version.clone(),
            deployment.status.to_string(),
            deployment.id.to_string(),
            deployment.created_on.clone(),
        ]);
    }
    println!("{}", trim_lines(&table.to_string()));
}

/// One log line as `kubernaut deployment log` and `deploy --wait` print it.
pub fn log_line(line: &LogLineBody) -> String {
    let marker = match line.stream {
        Stream::Stdout => "",
        Stream::Stderr => "error: ",
    };
    format!("{} {marker}{}", line.written_on, line.content)
}

/// kubectl-style name of an object, as deployment logs write it: the kind in lower case, with
/// `.group` when its apiVersion has a group, then `/name`: `deployment.apps/hello`,
/// `service/hello`.
pub fn object_name(api_version: &str, kind: &str, name: &str) -> String {
    let kind = kind.to_ascii_lowercase();
    match api_version.rsplit_once('/') {
        Some((group, _)) if !group.is_empty() => format!("{kind}.{group}/{name}"),
        _ => format!("{kind}/{name}"),
    }
}

/// Whether deploying would leave `object` as it is.
pub fn is_unchanged(object: &DryRunObjectBody) -> bool {
    object.action == "unchanged"
}

/// A dry run: per object `ACTION KIND/NAME` and its unified diff, then how many objects each
/// action concerns; or the whole body as JSON.
pub fn dry_run(output: Output, dry_run: &DryRunBody) {
    if output == Output::Json {
        return json(dry_run);
    }
    for object in &dry_run.objects {
        println!(
            "{} {}",
            object.action,
            object_name(&object.api_version, &object.kind, &object.name)
        );
        if !object.diff.is_empty() {
            print!("{}", object.diff);
            if !object.diff.ends_with('\n') {
                println!();
            }
        }
    }
    let count = |action: &str| {
        dry_run
            .objects
            .iter()
            .filter(|object| object.action == action)
            .count()
    };
    println!(
        "{} to create, {} to configure, {} unchanged, {} to prune",
        count("create"),
        count("configure"),
        count("unchanged"),
        count("prune")
    );
}

/// Columns of the live objects of `status`.
pub const LIVE_HEADER: [&str; 3] = ["KIND/NAME", "HEALTH", "MESSAGE"];

/// The live objects of a service in a context as a table (a sentence when there are none), or
/// the whole body as JSON.
pub fn live(output: Output, live: &LiveBody, service: &str, namespace: &str) {
    if output == Output::Json {
        return json(live);
    }
    if live.objects.is_empty() {
        println!(
            "service {service} (namespace {namespace}) has no objects in context {}",
            live.context
        );
        return;
    }
    let mut table = Table::new();
    table
        .load_preset(NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(LIVE_HEADER);
    for object in &live.objects {
        table.add_row([
            object_name(&object.api_version, &object.kind, &object.name),
            object.health.clone(),
            object.message.clone(),
        ]);
    }
    println!("{}", trim_lines(&table.to_string()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_named_as_kubectl_names_them() {
        assert_eq!(
            object_name("apps/v1", "Deployment", "hello"),
            "deployment.apps/hello"
        );
        assert_eq!(object_name("v1", "ConfigMap", "cfg"), "configmap/cfg");
        assert_eq!(
            object_name("networking.k8s.io/v1", "Ingress", "web"),
            "ingress.networking.k8s.io/web"
        );
    }
}
