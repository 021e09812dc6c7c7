//! What the store's test files share: a release to store, and the macro that runs each test
//! on SQLite and (when `KUBERNAUT_TEST_DATABASE_URL` is set) on PostgreSQL.

use kubernaut_domain::{Attributes, Namespace, NewRelease, ServiceName, TemplateSource, Version};

/// Who the test records make.
pub const CREATED_BY: &str = "ci";

/// A template that renders one ConfigMap.
pub const TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{service}}\n";

/// A release of `service` in `namespace` with [`TEMPLATE`].
pub fn new_release(
    service: &str,
    namespace: &str,
    version: &str,
    attrs: &[(&str, &str)],
) -> NewRelease {
    NewRelease::new(
        ServiceName::parse(service).unwrap(),
        Namespace::parse(namespace).unwrap(),
        Version::parse(version).unwrap(),
        TemplateSource::parse(TEMPLATE).unwrap(),
        Attributes::parse(attrs.iter().copied()).unwrap(),
        CREATED_BY,
    )
    .unwrap()
}

/// Runs each named test function on a fresh SQLite database, and on a fresh PostgreSQL database
/// (ignored unless PostgreSQL is configured).
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use kubernaut_store::testing::TestDatabase;
            $(
                #[test]
                fn $name() {
                    super::$name(&TestDatabase::sqlite());
                }
            )*
        }

        mod postgres {
            use kubernaut_store::testing::TestDatabase;
            $(
                #[test]
                #[ignore = "needs PostgreSQL: set KUBERNAUT_TEST_DATABASE_URL"]
                fn $name() {
                    super::$name(&TestDatabase::postgres());
                }
            )*
        }
    };
}
