//! Query strings of list endpoints: paging plus exact-match filters, each validated.

use std::collections::HashMap;

use kubernaut_domain::Page;

use crate::error::ApiError;

/// The parameters of `query`, each of the `accepted` names at most once; any other name is a
/// 400 whose message ends with `accepts` (what the endpoint takes).
pub(crate) fn parameters(
    query: &str,
    accepted: &[&str],
    accepts: &str,
) -> Result<HashMap<String, String>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::BadRequest(format!("the query string is malformed: {e}")))?;
    let mut values = HashMap::new();
    for (name, value) in pairs {
        if !accepted.contains(&name.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "unknown query parameter {name:?}; {accepts}"
            )));
        }
        if values.contains_key(&name) {
            return Err(ApiError::BadRequest(format!(
                "query parameter {name} is given more than once"
            )));
        }
        values.insert(name, value);
    }
    Ok(values)
}

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
        let mut accepted = vec!["limit", "offset"];
        accepted.extend_from_slice(filters);
        let mut values = parameters(
            query,
            &accepted,
            &format!("this list accepts {}", accepted.join(", ")),
        )?;
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
