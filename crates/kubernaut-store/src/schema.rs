//! The diesel schema, shared by PostgreSQL and SQLite (see `migrations/`).

diesel::table! {
    services (id) {
        id -> Text,
        name -> Text,
        namespace -> Text,
        created_on -> Timestamp,
        active_releases -> BigInt,
    }
}

diesel::table! {
    templates (id) {
        id -> Text,
        checksum -> Text,
        source -> Text,
        created_on -> Timestamp,
    }
}

diesel::table! {
    releases (id) {
        id -> Text,
        service_id -> Text,
        version -> Text,
        template_id -> Text,
        created_on -> Timestamp,
        created_by -> Text,
        deleted_on -> Nullable<Timestamp>,
        deleted_by -> Nullable<Text>,
    }
}

diesel::table! {
    release_attributes (release_id, name) {
        release_id -> Text,
        name -> Text,
        value -> Text,
    }
}

diesel::joinable!(releases -> services (service_id));
diesel::joinable!(releases -> templates (template_id));
diesel::joinable!(release_attributes -> releases (release_id));

diesel::allow_tables_to_appear_in_same_query!(services, templates, releases, release_attributes);
