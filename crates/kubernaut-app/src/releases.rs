//! Releases: create (validated against the release's own context), read, list, delete.

use kubernaut_domain::{Action, AuditAction, NewRelease, Page, Paged, Release, ReleaseDetail};
use kubernaut_store::{Deletion, Outcome, ReleaseFilter};
use uuid::Uuid;

use crate::error::not_found;
use crate::{App, AppError, Caller, Target, blocking};

/// A release stored (or found again), with what the caller should know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRelease {
    /// The release, new or existing.
    pub outcome: Outcome<ReleaseDetail>,
    /// Attributes the template never uses: most often a typo of a variable's name.
    pub warnings: Vec<String>,
}

impl App {
    /// Stores a release made by the caller, after checking its template renders with the
    /// release's own context; a repeat of an existing release returns it unchanged (and is
    /// not audited). Attributes the template does not use are warned about.
    pub async fn create_release(
        &self,
        caller: &Caller,
        mut new: NewRelease,
    ) -> Result<StoredRelease, AppError> {
        let target = Target {
            resource_type: "release",
            resource_id: None,
            namespace: new.namespace.as_str(),
            context: None,
        };
        self.authorize(caller, Action::CreateRelease, target)
            .await?;
        new.created_by = caller.name().to_owned();
        let (app, caller) = (self.clone(), caller.clone());
        let (outcome, warnings) = blocking(move || {
            let template = app.templates.get(&new.template)?;
            template.render(&new.render_context(), new.namespace.as_str())?;
            let warnings = new
                .attributes
                .iter()
                .map(|(name, _)| name)
                .filter(|name| !template.uses(name))
                .map(|name| {
                    format!(
                        "attribute {name} is not used by the template: it is stored with the \
                         release but renders nothing (is it a variable's name misspelled?)"
                    )
                })
                .collect::<Vec<_>>();
            let outcome = app.store.transaction(|tx| {
                let outcome = tx.create_release(&new)?;
                if let Outcome::Created(detail) = &outcome {
                    let release = &detail.release;
                    tx.append_audit(
                        caller
                            .event(AuditAction::ReleaseCreate, "release")
                            .resource(release.id)
                            .namespace(&release.service.namespace)
                            .detail("service", release.service.name.as_str())
                            .detail("version", release.version.as_str())
                            .detail("templateChecksum", release.template.checksum.as_str())
                            .build(),
                    )?;
                }
                Ok(outcome)
            })?;
            Ok((outcome, warnings))
        })
        .await?;
        if let Outcome::Created(_) = &outcome {
            self.metrics.release_created();
        }
        Ok(StoredRelease { outcome, warnings })
    }

    /// The active release with this id, if the caller may read it.
    pub async fn release(&self, caller: &Caller, id: Uuid) -> Result<ReleaseDetail, AppError> {
        let store = self.store.clone();
        let visible = caller.grants().visible_namespaces();
        blocking(move || {
            store
                .release(id)?
                .filter(|detail| visible.includes(detail.release.service.namespace.as_str()))
                .ok_or_else(|| not_found("release", id))
        })
        .await
    }

    /// Active releases the caller may read, newest first.
    pub async fn releases(
        &self,
        caller: &Caller,
        filter: ReleaseFilter,
        page: Page,
    ) -> Result<Paged<Release>, AppError> {
        let store = self.store.clone();
        let visible = caller.grants().visible_namespaces();
        blocking(move || Ok(store.releases(&filter, &visible, page)?)).await
    }

    /// Soft-deletes a release: `Ok` also when it was deleted before (only the first delete is
    /// audited); not found when unknown or not visible to the caller.
    pub async fn delete_release(&self, caller: &Caller, id: Uuid) -> Result<(), AppError> {
        let store = self.store.clone();
        let namespace = blocking(move || Ok(store.release_namespace(id)?))
            .await?
            .filter(|namespace| {
                caller
                    .grants()
                    .visible_namespaces()
                    .includes(namespace.as_str())
            })
            .ok_or_else(|| not_found("release", id))?;
        let target = Target {
            resource_type: "release",
            resource_id: Some(id.to_string()),
            namespace: namespace.as_str(),
            context: None,
        };
        self.authorize(caller, Action::DeleteRelease, target)
            .await?;
        let (store, caller) = (self.store.clone(), caller.clone());
        blocking(move || {
            store.transaction(|tx| {
                if tx.delete_release(id, caller.name())? == Deletion::Done {
                    tx.append_audit(
                        caller
                            .event(AuditAction::ReleaseDelete, "release")
                            .resource(id)
                            .namespace(&namespace)
                            .build(),
                    )?;
                }
                Ok(())
            })?;
            Ok(())
        })
        .await
    }
}
