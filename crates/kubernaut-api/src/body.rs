//! Reading request bodies within the size limit, as JSON or multipart form data.

use actix_multipart::Multipart;
use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut, Payload};
use futures_util::StreamExt;
use kubernaut_domain::{Attributes, Namespace, NewRelease, ServiceName, TemplateSource, Version};

use crate::error::ApiError;
use kubernaut_wire::CreateRelease;

/// The content types a release can be posted in.
enum BodyKind {
    Json,
    Multipart,
}

fn body_kind(req: &HttpRequest) -> Result<BodyKind, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(BodyKind::Json),
        "multipart/form-data" => Ok(BodyKind::Multipart),
        "" => Err(ApiError::UnsupportedMediaType(
            "a Content-Type header is required: application/json or multipart/form-data".to_owned(),
        )),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {other} is not supported: use application/json or multipart/form-data"
        ))),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the request body is larger than the limit of {limit} bytes"
    ))
}

/// Reads the whole body, refusing it as soon as it exceeds `limit` bytes.
async fn read_limited(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large(limit));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::BadRequest(format!("cannot read the request body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses a JSON body into `T`; the error names the offending field.
/// Reads a JSON body (the only content type the endpoint takes) within `limit` bytes.
pub(crate) async fn json<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<T, ApiError> {
    match body_kind(req) {
        Ok(BodyKind::Json) => parse_json(&read_limited(req, payload, limit).await?),
        _ => Err(ApiError::UnsupportedMediaType(
            "Content-Type must be application/json".to_owned(),
        )),
    }
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::BadRequest(format!("the request body is not valid JSON: {inner}"))
            }
            _ if path == "." || path == "?" || path.is_empty() => ApiError::BadRequest(format!(
                "the request body does not match this endpoint: {inner}"
            )),
            _ => ApiError::BadRequest(format!("{path}: {inner}")),
        }
    })
}

/// The fields of a release request, before validation.
#[derive(Debug, Default)]
struct ReleaseFields {
    service: Option<String>,
    namespace: Option<String>,
    version: Option<String>,
    template: Option<String>,
    attributes: Vec<(String, String)>,
}

impl ReleaseFields {
    fn validate(self, created_by: &str) -> Result<NewRelease, ApiError> {
        let required = |value: Option<String>, field: &'static str| {
            value.ok_or(kubernaut_domain::ValidationError::Missing { field })
        };
        let service = ServiceName::parse(&required(self.service, "service")?)?;
        let namespace = match self.namespace {
            Some(namespace) => Namespace::parse(&namespace)?,
            None => Namespace::default(),
        };
        let version = Version::parse(&required(self.version, "version")?)?;
        let template = TemplateSource::parse(required(self.template, "template")?)?;
        let attributes = Attributes::parse(self.attributes)?;
        Ok(NewRelease::new(
            service, namespace, version, template, attributes, created_by,
        )?)
    }
}

/// Reads and validates a `POST /api/releases` body, JSON or multipart.
pub(crate) async fn new_release(
    req: &HttpRequest,
    payload: Payload,
    limit: usize,
    created_by: &str,
) -> Result<NewRelease, ApiError> {
    let fields = match body_kind(req)? {
        BodyKind::Json => {
            let body: CreateRelease = parse_json(&read_limited(req, payload, limit).await?)?;
            ReleaseFields {
                service: body.service,
                namespace: body.namespace,
                version: body.version,
                template: body.template,
                attributes: body.attributes.into_iter().collect(),
            }
        }
        BodyKind::Multipart => multipart_fields(req, payload, limit).await?,
    };
    fields.validate(created_by)
}

/// Reads a `curl -F` form: `service`, `namespace`, `version`, `template` (file or text), and
/// every other text field as an attribute.
async fn multipart_fields(
    req: &HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<ReleaseFields, ApiError> {
    let malformed = |e: actix_multipart::MultipartError| {
        ApiError::BadRequest(format!("the multipart form is malformed: {e}"))
    };
    let mut form = Multipart::new(req.headers(), payload);
    let mut fields = ReleaseFields::default();
    let mut total = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(malformed)?;
        let disposition = field.content_disposition().cloned();
        let name = disposition
            .as_ref()
            .and_then(|d| d.get_name())
            .ok_or_else(|| ApiError::BadRequest("a multipart field has no name".to_owned()))?
            .to_owned();
        let is_file = disposition
            .as_ref()
            .and_then(|d| d.get_filename())
            .is_some();
        let mut value = BytesMut::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            total += chunk.len();
            if total > limit {
                return Err(too_large(limit));
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value.to_vec())
            .map_err(|_| ApiError::BadRequest(format!("form field {name} is not valid UTF-8")))?;
        let slot = match name.as_str() {
            "service" => &mut fields.service,
            "namespace" => &mut fields.namespace,
            "version" => &mut fields.version,
            "template" => &mut fields.template,
            _ if is_file => {
                return Err(ApiError::BadRequest(format!(
                    "form field {name} is a file; only template may be a file, attributes are \
                     text fields"
                )));
            }
            _ => {
                fields.attributes.push((name, value));
                continue;
            }
        };
        if slot.replace(value).is_some() {
            return Err(ApiError::BadRequest(format!(
                "form field {name} is given more than once"
            )));
        }
    }
    Ok(fields)
}
