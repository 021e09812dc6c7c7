//! Compiled templates by source checksum: a service releases the same template again and
//! again, and compiling costs several times what rendering a compiled template does.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use kubernaut_domain::TemplateSource;
use kubernaut_template::{Template, TemplateError};

/// The most template source kept compiled, in bytes; past it the cache starts over.
const MAX_SOURCE_BYTES: usize = 16 * 1024 * 1024;

/// Compiled templates, shared by the request handlers and the deployment renders.
#[derive(Debug, Default)]
pub struct TemplateCache {
    compiled: Mutex<Compiled>,
}

#[derive(Debug, Default)]
struct Compiled {
    by_checksum: HashMap<String, Template>,
    source_bytes: usize,
}

impl TemplateCache {
    /// The compiled template of `source`, compiled now if it is not cached.
    pub fn get(&self, source: &TemplateSource) -> Result<Template, TemplateError> {
        let checksum = source.checksum().to_string();
        let cached = self.lock().by_checksum.get(&checksum).cloned();
        if let Some(template) = cached {
            return Ok(template);
        }
        let template = Template::compile(source.as_str())?;
        let mut compiled = self.lock();
        if compiled.source_bytes + source.as_str().len() > MAX_SOURCE_BYTES {
            *compiled = Compiled::default();
        }
        compiled.source_bytes += source.as_str().len();
        compiled.by_checksum.insert(checksum, template.clone());
        Ok(template)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Compiled> {
        self.compiled.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_compiled_once_and_errors_are_not_cached() {
        let cache = TemplateCache::default();
        let source = TemplateSource::parse("a: {{b}}\n").unwrap();
        cache.get(&source).unwrap();
        cache.get(&source).unwrap();
        assert_eq!(cache.lock().by_checksum.len(), 1);
        let broken = TemplateSource::parse("a: {{#b}}\n").unwrap();
        assert!(cache.get(&broken).is_err());
        assert_eq!(cache.lock().by_checksum.len(), 1);
    }
}
