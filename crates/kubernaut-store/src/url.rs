use std::fmt;

use crate::StoreError;

/// The database backends kubernaut stores its data in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL, for production and several server replicas.
    Postgres,
    /// SQLite, the embedded default.
    Sqlite,
}

/// A database URL whose backend is known from its scheme: `postgres://`, `postgresql://` or
/// `sqlite://PATH` (`sqlite://kubernaut.db` is relative, `sqlite:///var/lib/k.db` absolute).
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    url: String,
}

impl DatabaseUrl {
    /// Parses `url`, choosing the backend from its scheme.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        const SCHEMES: [&str; 3] = ["postgres", "postgresql", "sqlite"];
        let invalid = |reason: &str| StoreError::InvalidUrl {
            url: redact(url),
            reason: reason.to_owned(),
        };
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(invalid(
                    "sqlite:// needs a file path, e.g. sqlite://kubernaut.db",
                ));
            }
            Backend::Sqlite
        } else if let Some((scheme, rest)) = url
            .split_once(':')
            .filter(|(scheme, rest)| SCHEMES.contains(scheme) && !rest.starts_with("//"))
        {
            return Err(invalid(&format!(
                "the scheme must be followed by //: write {scheme}://{rest}"
            )));
        } else {
            return Err(invalid(
                "the scheme must be postgres://, postgresql:// or sqlite://",
            ));
        };
        Ok(Self {
            backend,
            url: url.to_owned(),
        })
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// What the driver connects to: the libpq URL for PostgreSQL (with a 5 s connect timeout
    /// unless the URL sets one), the file path for SQLite.
    pub(crate) fn connection_string(&self) -> String {
        match self.backend {
            Backend::Postgres if self.url.contains("connect_timeout=") => self.url.clone(),
            Backend::Postgres => {
                let separator = if self.url.contains('?') { '&' } else { '?' };
                format!("{}{separator}connect_timeout=5", self.url)
            }
            Backend::Sqlite => self.url["sqlite://".len()..].to_owned(),
        }
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.url
    }
}

/// Shows the URL with its password masked, so that it can be logged.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.url))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Masks the password of `scheme://user:password@host/...`.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &authority[..colon],
            &url[scheme_end + at..]
        ),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_scheme() {
        let pg = DatabaseUrl::parse("postgres://u:secret@db:5432/k").unwrap();
        assert_eq!(pg.backend(), Backend::Postgres);
        assert_eq!(
            pg.connection_string(),
            "postgres://u:secret@db:5432/k?connect_timeout=5"
        );
        let pg = DatabaseUrl::parse("postgresql:///k?host=/run/postgresql").unwrap();
        assert_eq!(
            pg.connection_string(),
            "postgresql:///k?host=/run/postgresql&connect_timeout=5"
        );
        let lite = DatabaseUrl::parse("sqlite:///var/lib/k.db").unwrap();
        assert_eq!(lite.backend(), Backend::Sqlite);
        assert_eq!(lite.connection_string(), "/var/lib/k.db");
        assert_eq!(
            DatabaseUrl::parse("sqlite://kubernaut.db")
                .unwrap()
                .connection_string(),
            "kubernaut.db"
        );
    }

    #[test]
    fn unknown_schemes_and_empty_paths_are_refused() {
        assert_eq!(
            DatabaseUrl::parse("mysql://u:pw@h/db")
                .unwrap_err()
                .to_string(),
            "invalid database URL mysql://u:***@h/db: the scheme must be postgres://, \
             postgresql:// or sqlite://"
        );
        assert!(DatabaseUrl::parse("kubernaut.db").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert_eq!(
            DatabaseUrl::parse("sqlite:kubernaut.db")
                .unwrap_err()
                .to_string(),
            "invalid database URL sqlite:kubernaut.db: the scheme must be followed by //: write \
             sqlite://kubernaut.db"
        );
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            redact("postgres://u:pw@h:5/db?x=1"),
            "postgres://u:***@h:5/db?x=1"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres:///db"), "postgres:///db");
        let url = DatabaseUrl::parse("postgres://u:pw@h/db").unwrap();
        assert_eq!(
            format!("{url} {url:?}"),
            "postgres://u:***@h/db DatabaseUrl(postgres://u:***@h/db)"
        );
    }
}
