use serde::{Deserialize, Serialize};

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageBody<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// How many items match, ignoring limit and offset.
    pub count: u64,
    /// The page size.
    pub limit: u32,
    /// How many items were skipped.
    pub offset: u64,
}
