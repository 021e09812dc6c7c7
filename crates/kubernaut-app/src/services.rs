//! Services, what runs where, and contexts: read only.

use kubernaut_cluster::ContextInfo;
use kubernaut_domain::{Page, Paged, Service};
use kubernaut_store::{LaneFilter, ServiceDetail, ServiceFilter, ServiceLanes};
use uuid::Uuid;

use crate::error::not_found;
use crate::{App, AppError, Caller, blocking};

impl App {
    /// Services the caller may read, newest first.
    pub async fn services(
        &self,
        caller: &Caller,
        filter: ServiceFilter,
        page: Page,
    ) -> Result<Paged<Service>, AppError> {
        let store = self.store.clone();
        let visible = caller.grants().visible_namespaces();
        blocking(move || Ok(store.services(&filter, &visible, page)?)).await
    }

    /// The service with its latest release and latest deployment per context, if the caller
    /// may read it.
    pub async fn service(&self, caller: &Caller, id: Uuid) -> Result<ServiceDetail, AppError> {
        let store = self.store.clone();
        let visible = caller.grants().visible_namespaces();
        blocking(move || {
            store
                .service(id)?
                .filter(|detail| visible.includes(detail.service.namespace.as_str()))
                .ok_or_else(|| not_found("service", id))
        })
        .await
    }

    /// What runs where: the visible services matching `filter`, by namespace and name, each
    /// with the newest deployment and what runs in each context it was deployed to.
    pub async fn what_runs_where(
        &self,
        caller: &Caller,
        filter: LaneFilter,
    ) -> Result<Vec<ServiceLanes>, AppError> {
        let store = self.store.clone();
        let visible = caller.grants().visible_namespaces();
        blocking(move || Ok(store.lanes(&filter, &visible)?)).await
    }

    /// The contexts deployments can target, by name; any valid token may list them.
    pub fn list_contexts(&self, _caller: &Caller) -> Vec<ContextInfo> {
        self.contexts.list()
    }
}
