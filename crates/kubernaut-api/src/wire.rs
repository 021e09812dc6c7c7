//! Domain values as API bodies. The body types live in `kubernaut-wire`, shared with clients;
//! this module fills them in, formatting timestamps as RFC 3339 UTC with milliseconds.

use kubernaut_app::ContextInfo;
use kubernaut_app::{AttemptRecord, DryRunReport, LiveObject, Principal, ServiceDetail};
use kubernaut_domain::{
    Attributes, AuditEvent, Delivery, Grants, Paged, Release, ReleaseDetail, Service, Token,
};
use kubernaut_wire::{
    AttemptBody, AuditEventBody, ContextBody, DeliveryBody, DeploymentBody, DryRunBody,
    DryRunObjectBody, GrantBody, LiveBody, LiveObjectBody, PageBody, ReleaseBody, ServiceBody,
    ServiceDetailBody, ServiceRef, TemplateBody, TokenBody, WhoamiBody, timestamp,
};

fn attributes(attributes: &Attributes) -> std::collections::BTreeMap<String, String> {
    attributes
        .iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// A release without its template source, as lists show it.
pub(crate) fn release_summary(release: Release) -> ReleaseBody {
    ReleaseBody {
        id: release.id,
        service: ServiceRef::from(&release.service),
        version: release.version.to_string(),
        template: TemplateBody {
            id: release.template.id,
            checksum: release.template.checksum.to_string(),
            source: None,
        },
        attributes: attributes(&release.attributes),
        created_on: timestamp(release.created_on),
        created_by: release.created_by,
        warnings: Vec::new(),
    }
}

/// A release with its template source.
pub(crate) fn release_detail(detail: ReleaseDetail) -> ReleaseBody {
    let mut body = release_summary(detail.release);
    body.template.source = Some(detail.source.as_str().to_owned());
    body
}

/// A service in the service list.
pub(crate) fn service(service: Service) -> ServiceBody {
    ServiceBody {
        id: service.id,
        name: service.name.to_string(),
        namespace: service.namespace.to_string(),
        created_on: timestamp(service.created_on),
    }
}

/// A service with its latest release and its latest deployment per context.
pub(crate) fn service_detail(detail: ServiceDetail) -> ServiceDetailBody {
    ServiceDetailBody {
        service: service(detail.service),
        latest_release: detail.latest_release.map(release_summary),
        latest_deployments: detail
            .latest_deployments
            .into_iter()
            .map(|d| (d.context.to_string(), DeploymentBody::summary(d)))
            .collect(),
    }
}

/// A context a deployment can target.
pub(crate) fn context(info: ContextInfo) -> ContextBody {
    ContextBody {
        name: info.name,
        kind: info.kind.to_string(),
    }
}

fn grants(grants: &Grants) -> Vec<GrantBody> {
    grants
        .iter()
        .map(|grant| GrantBody {
            role: grant.role.to_string(),
            namespace: grant.namespace.to_string(),
            context: Some(grant.context.to_string()),
        })
        .collect()
}

/// A token without its secret.
pub(crate) fn token(token: Token) -> TokenBody {
    TokenBody {
        id: token.id,
        name: token.name.to_string(),
        grants: grants(&token.grants),
        created_on: timestamp(token.created_on),
        created_by: token.created_by,
        expires_on: token.expires_on.map(timestamp),
        last_used_on: token.last_used_on.map(timestamp),
        revoked_on: token.revoked_on.map(timestamp),
        token: None,
    }
}

/// The caller's token.
pub(crate) fn whoami(principal: &Principal) -> WhoamiBody {
    WhoamiBody {
        name: principal.name.clone(),
        grants: grants(&principal.grants),
        expires_on: principal.expires_on.map(timestamp),
    }
}

/// An audit event, with its hash.
pub(crate) fn audit_event(event: AuditEvent) -> AuditEventBody {
    AuditEventBody {
        id: event.id,
        at: timestamp(event.at),
        actor: event.actor,
        action: event.action.to_string(),
        resource_type: event.resource_type,
        resource_id: event.resource_id,
        namespace: event.namespace,
        context: event.context,
        remote_addr: event.remote_addr,
        request_id: event.request_id,
        details: event.details,
        hash: event.hash,
    }
}

/// What a dry run found.
pub(crate) fn dry_run(report: DryRunReport) -> DryRunBody {
    DryRunBody {
        manifest: report.manifest,
        objects: report
            .objects
            .into_iter()
            .map(|object| DryRunObjectBody {
                api_version: object.object.api_version,
                kind: object.object.kind,
                name: object.object.name,
                namespace: object.namespace,
                action: object.action.as_str().to_owned(),
                diff: object.diff,
            })
            .collect(),
    }
}

/// A service's live objects in a context.
pub(crate) fn live(context: &str, objects: Vec<LiveObject>) -> LiveBody {
    LiveBody {
        context: context.to_owned(),
        objects: objects
            .into_iter()
            .map(|object| {
                let (health, message) = object.health();
                LiveObjectBody {
                    api_version: object.api_version,
                    kind: object.kind,
                    name: object.name,
                    namespace: object.namespace,
                    health: health.as_str().to_owned(),
                    message,
                }
            })
            .collect(),
    }
}

/// A domain page as a list body, its items mapped by `f`.
pub(crate) fn page<U, T>(paged: Paged<U>, f: impl FnMut(U) -> T) -> PageBody<T> {
    let paged = paged.map(f);
    PageBody {
        items: paged.items,
        count: paged.count,
        limit: paged.limit,
        offset: paged.offset,
    }
}

/// A delivery of a deployment event to a webhook, with its attempts.
pub(crate) fn delivery((delivery, attempts): (Delivery, Vec<AttemptRecord>)) -> DeliveryBody {
    DeliveryBody {
        id: delivery.id,
        webhook: delivery.webhook,
        event: delivery.event.as_str().to_owned(),
        status: delivery.status.as_str().to_owned(),
        attempts: delivery.attempts,
        last_status: delivery.last_status,
        last_error: delivery.last_error,
        created_on: timestamp(delivery.created_on),
        next_attempt_on: delivery.next_attempt_on.map(timestamp),
        delivered_on: delivery.delivered_on.map(timestamp),
        attempt_log: attempts
            .into_iter()
            .map(|attempt| AttemptBody {
                attempted_on: timestamp(attempt.attempted_on),
                status: attempt.status,
                error: attempt.error,
                duration_ms: attempt.duration_ms,
            })
            .collect(),
    }
}
