//! Reading notifications: the configured webhooks (global admins) and a deployment's
//! deliveries (whoever may read the deployment).

use kubernaut_domain::Delivery;
use kubernaut_store::AttemptRecord;
use kubernaut_wire::WebhookBody;
use uuid::Uuid;

use crate::{App, AppError, Caller, blocking};

impl App {
    /// The configured webhooks, without secrets.
    pub async fn list_webhooks(&self, caller: &Caller) -> Result<Vec<WebhookBody>, AppError> {
        self.require_global_admin(caller, "list webhooks", "webhook")
            .await?;
        Ok(self.webhooks.iter().map(|webhook| webhook.body()).collect())
    }

    /// The deliveries of a deployment the caller may read, oldest first, with their attempts.
    pub async fn deliveries(
        &self,
        caller: &Caller,
        deployment_id: Uuid,
    ) -> Result<Vec<(Delivery, Vec<AttemptRecord>)>, AppError> {
        self.deployment(caller, deployment_id).await?;
        let store = self.store.clone();
        blocking(move || Ok(store.notifications(deployment_id)?)).await
    }
}
