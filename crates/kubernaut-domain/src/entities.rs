use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::attributes::{
    BUILTIN_CONTEXT, BUILTIN_NAMESPACE, BUILTIN_SERVICE, BUILTIN_VERSION, VALIDATION_CONTEXT,
};
use crate::error::{ValidationError, shorten};
use crate::{Attributes, Checksum, ContextName, Namespace, ServiceName, TemplateSource, Version};

/// An application or micro-service, deployed into one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// The service's id.
    pub id: Uuid,
    /// Its name.
    pub name: ServiceName,
    /// The Kubernetes namespace it deploys into.
    pub namespace: Namespace,
    /// When its first release created it.
    pub created_on: DateTime<Utc>,
}

/// A stored template without its source, as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateRef {
    /// The template's id.
    pub id: Uuid,
    /// The sha256 of its source.
    pub checksum: Checksum,
}

/// A version of a service: a template and the attributes rendered into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The release's id.
    pub id: Uuid,
    /// The service released.
    pub service: Service,
    /// The version released.
    pub version: Version,
    /// The manifest template.
    pub template: TemplateRef,
    /// The release attributes.
    pub attributes: Attributes,
    /// When it was created.
    pub created_on: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
}

/// A release with its template source, as `GET /api/releases/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseDetail {
    /// The release.
    pub release: Release,
    /// Its template's source.
    pub source: TemplateSource,
}

/// A validated request to create a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRelease {
    /// The service's name.
    pub service: ServiceName,
    /// The service's namespace.
    pub namespace: Namespace,
    /// The version.
    pub version: Version,
    /// The manifest template.
    pub template: TemplateSource,
    /// The release attributes.
    pub attributes: Attributes,
    /// Who creates it.
    pub created_by: String,
}

impl NewRelease {
    /// Checks that no attribute redefines a built-in variable (`service`, `namespace`,
    /// `version`) with a different value, and that none is named `context`, which deployments
    /// set.
    pub fn new(
        service: ServiceName,
        namespace: Namespace,
        version: Version,
        template: TemplateSource,
        attributes: Attributes,
        created_by: impl Into<String>,
    ) -> Result<Self, ValidationError> {
        if attributes.get(BUILTIN_CONTEXT).is_some() {
            return Err(ValidationError::ReservedAttribute(BUILTIN_CONTEXT));
        }
        for (name, builtin) in [
            (BUILTIN_SERVICE, service.as_str()),
            (BUILTIN_NAMESPACE, namespace.as_str()),
            (BUILTIN_VERSION, version.as_str()),
        ] {
            match attributes.get(name) {
                Some(value) if value != builtin => {
                    return Err(ValidationError::BuiltinOverride {
                        name: name.to_owned(),
                        builtin: builtin.to_owned(),
                        value: shorten(value),
                    });
                }
                _ => {}
            }
        }
        Ok(Self {
            service,
            namespace,
            version,
            template,
            attributes,
            created_by: created_by.into(),
        })
    }

    /// The context the template is checked with when the release is created: the attributes,
    /// the built-ins, and [`VALIDATION_CONTEXT`] standing in for the deployment's context.
    pub fn render_context(&self) -> Vec<(&str, &str)> {
        render_context(
            &self.attributes,
            [
                (BUILTIN_SERVICE, self.service.as_str()),
                (BUILTIN_NAMESPACE, self.namespace.as_str()),
                (BUILTIN_VERSION, self.version.as_str()),
                (BUILTIN_CONTEXT, VALIDATION_CONTEXT),
            ],
        )
    }
}

impl Release {
    /// The context the template is rendered with when deploying to `context`: the attributes
    /// plus the built-ins `service`, `namespace`, `version` and `context`.
    pub fn render_context<'a>(&'a self, context: &'a ContextName) -> Vec<(&'a str, &'a str)> {
        render_context(
            &self.attributes,
            [
                (BUILTIN_SERVICE, self.service.name.as_str()),
                (BUILTIN_NAMESPACE, self.service.namespace.as_str()),
                (BUILTIN_VERSION, self.version.as_str()),
                (BUILTIN_CONTEXT, context.as_str()),
            ],
        )
    }
}

/// The attributes plus `builtins`; an attribute named like a built-in (which then has the same
/// value) appears once.
fn render_context<'a>(
    attributes: &'a Attributes,
    builtins: [(&'static str, &'a str); 4],
) -> Vec<(&'a str, &'a str)> {
    let names: [&str; 4] = builtins.map(|(name, _)| name);
    let mut context: Vec<(&str, &str)> = attributes
        .iter()
        .filter(|(name, _)| !names.contains(name))
        .collect();
    context.extend(builtins);
    context
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_release(attributes: &[(&str, &str)]) -> Result<NewRelease, ValidationError> {
        NewRelease::new(
            ServiceName::parse("hello").unwrap(),
            Namespace::default(),
            Version::parse("42").unwrap(),
            TemplateSource::parse("x").unwrap(),
            Attributes::parse(attributes.iter().copied()).unwrap(),
            "ci",
        )
    }

    #[test]
    fn builtins_can_be_repeated_but_not_redefined() {
        assert!(new_release(&[("service", "hello"), ("version", "42")]).is_ok());
        assert_eq!(
            new_release(&[("version", "43")]).unwrap_err().to_string(),
            "attribute version names a built-in variable and must equal its value \"42\", got \"43\""
        );
    }

    #[test]
    fn context_is_reserved_for_deployments() {
        assert_eq!(
            new_release(&[("context", "prod")]).unwrap_err().to_string(),
            "attribute context is reserved: a deployment sets it to the name of the context it \
             deploys to"
        );
    }

    #[test]
    fn a_release_renders_with_the_context_deployed_to() {
        let new = new_release(&[("image", "nginx"), ("version", "42")]).unwrap();
        let release = Release {
            id: Uuid::nil(),
            service: Service {
                id: Uuid::nil(),
                name: new.service.clone(),
                namespace: new.namespace.clone(),
                created_on: DateTime::UNIX_EPOCH,
            },
            version: new.version.clone(),
            template: TemplateRef {
                id: Uuid::nil(),
                checksum: new.template.checksum(),
            },
            attributes: new.attributes.clone(),
            created_on: DateTime::UNIX_EPOCH,
            created_by: "ci".to_owned(),
        };
        let context = ContextName::parse("prod-eu").unwrap();
        let mut rendered = release.render_context(&context);
        rendered.sort();
        assert_eq!(
            rendered,
            [
                ("context", "prod-eu"),
                ("image", "nginx"),
                ("namespace", "default"),
                ("service", "hello"),
                ("version", "42")
            ]
        );
    }

    #[test]
    fn render_context_holds_attributes_and_builtins() {
        let release = new_release(&[("image", "nginx"), ("service", "hello")]).unwrap();
        let mut context = release.render_context();
        context.sort();
        assert_eq!(
            context,
            [
                ("context", "kubernaut-validation"),
                ("image", "nginx"),
                ("namespace", "default"),
                ("service", "hello"),
                ("version", "42")
            ]
        );
    }
}
