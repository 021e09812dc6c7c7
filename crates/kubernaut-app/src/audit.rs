//! Reading and verifying the audit log (global admins only).

use kubernaut_domain::{AuditEvent, Page, Paged};
use kubernaut_store::AuditFilter;
use uuid::Uuid;

use crate::{App, AppError, Caller, blocking};

/// What verifying the audit chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// Whether every event matches the chain and the chain's head matches its last event.
    pub ok: bool,
    /// How many events were checked.
    pub events: u64,
    /// The first event whose hash does not match.
    pub first_bad_event: Option<Uuid>,
}

impl App {
    /// Audit events, newest first.
    pub async fn audit_events(
        &self,
        caller: &Caller,
        filter: AuditFilter,
        page: Page,
    ) -> Result<Paged<AuditEvent>, AppError> {
        self.require_global_admin(caller, "read the audit log", "audit")
            .await?;
        let store = self.store.clone();
        blocking(move || Ok(store.audit_events(&filter, page)?)).await
    }

    /// Recomputes the audit chain.
    pub async fn verify_audit(&self, caller: &Caller) -> Result<AuditVerification, AppError> {
        self.require_global_admin(caller, "verify the audit log", "audit")
            .await?;
        let store = self.store.clone();
        let verification = blocking(move || Ok(store.verify_audit()?)).await?;
        Ok(AuditVerification {
            ok: verification.ok(),
            events: verification.events,
            first_bad_event: verification.first_bad_event,
        })
    }
}
