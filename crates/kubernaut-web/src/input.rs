//! Reading a page's input: query strings, form bodies and path ids, each refused with a page
//! that names the problem.

use actix_web::HttpRequest;
use kubernaut_domain::Page;
use uuid::Uuid;

use crate::error::WebError;

/// The fields of a query string or a form body, in order.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// The request's query string.
    pub(crate) fn query(req: &HttpRequest) -> Result<Self, WebError> {
        serde_urlencoded::from_str(req.query_string())
            .map(Params)
            .map_err(|e| WebError::bad_request(format!("the query string is invalid: {e}")))
    }

    /// A form body (`application/x-www-form-urlencoded`).
    pub(crate) fn form(body: &[u8]) -> Result<Self, WebError> {
        serde_urlencoded::from_bytes(body)
            .map(Params)
            .map_err(|e| WebError::bad_request(format!("the form is invalid: {e}")))
    }

    /// The field's value, trimmed; `None` when it is missing or blank.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// A text area's value as written, with the browser's CRLF line ends made LF (as in the
    /// file it was pasted from); `None` when it is missing or blank.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.replace("\r\n", "\n"))
            .filter(|value| !value.trim().is_empty())
    }

    /// Whether a checkbox was checked.
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A required field.
    pub(crate) fn required(&self, name: &str, what: &str) -> Result<&str, WebError> {
        self.get(name)
            .ok_or_else(|| WebError::bad_request(format!("the form needs {what}")))
    }

    /// The page of a list (`limit`, `offset`).
    pub(crate) fn page(&self) -> Result<Page, WebError> {
        Ok(Page::parse(self.get("limit"), self.get("offset"))?)
    }

    /// The fields named in `names` that are set, for links that keep a list's filters.
    pub(crate) fn kept(&self, names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .filter_map(|name| self.get(name).map(|v| ((*name).to_owned(), v.to_owned())))
            .collect()
    }
}

/// The `{id}` of the path: a record that cannot exist when it is not a UUID.
pub(crate) fn path_id(req: &HttpRequest, what: &str) -> Result<Uuid, WebError> {
    let raw = req.match_info().get("id").unwrap_or_default();
    Uuid::parse_str(raw).map_err(|_| WebError::not_found(format!("{what} {raw} does not exist")))
}

/// A URL of `path` with `params` as its query string.
pub(crate) fn url(path: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return path.to_owned();
    }
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    format!("{path}?{query}")
}
