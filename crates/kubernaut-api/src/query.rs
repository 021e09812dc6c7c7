//! Query strings of list endpoints: paging plus exact-match filters, each validated.

use std::collections::HashMap;

use kubernaut_domain::Page;

use crate::error::ApiError;

/// A list request's query: its page and the filters it names.
#[derive(Debug)]
pub(crate) struct ListQuery {
    pub page: Page,
    filters: HashMap<String, String>,
}

impl ListQuery {
    /// Parses `query`, accepting `limit`, `offset` and the named filters only; an unknown or
    /// repeated parameter is a 400, so that a typo does not silently widen a list.
    pub fn parse(query: &str, filters: &[&str]) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| ApiError::BadRequest(format!("the query string is malformed: {e}")))?;
        let mut values = HashMap::new();
        for (name, value) in pairs {
            if name != "limit" && name != "offset" && !filters.contains(&name.as_str()) {
                return Err(ApiError::BadRequest(format!(
                    "unknown query parameter {name:?}; this list accepts limit, offset, {}",
                    filters.join(", ")
                )));
            }
            if values.contains_key(&name) {
                return Err(ApiError::BadRequest(format!(
                    "query parameter {name} is given more than once"
                )));
            }
            values.insert(name, value);
        }
        let page = Page::parse(
            values.remove("limit").as_deref(),
            values.remove("offset").as_deref(),
        )?;
        Ok(Self {
            page,
            filters: values,
        })
    }

    /// The filter `name` parsed by `parse`, if given.
    pub fn filter<T, E>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Result<Option<T>, ApiError>
    where
        ApiError: From<E>,
    {
        self.filters
            .get(name)
            .map(|value| parse(value).map_err(ApiError::from))
            .transpose()
    }
}
