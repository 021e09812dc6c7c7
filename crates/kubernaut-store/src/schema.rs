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

diesel::table! {
    deployments (id) {
        id -> Text,
        release_id -> Text,
        service_id -> Text,
        context -> Text,
        manifest -> Text,
        status -> Text,
        error -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        attempts -> Integer,
        created_on -> Timestamp,
        created_by -> Text,
        started_on -> Nullable<Timestamp>,
        finished_on -> Nullable<Timestamp>,
        deleted_on -> Nullable<Timestamp>,
        deleted_by -> Nullable<Text>,
        rollback -> Integer,
        auto_rollback -> Integer,
        rolled_back_by -> Nullable<Text>,
        cancel_requested_by -> Nullable<Text>,
        prune -> Integer,
    }
}

diesel::table! {
    deployment_log (deployment_id, seq) {
        deployment_id -> Text,
        seq -> Integer,
        written_on -> Timestamp,
        stream -> Text,
        content -> Text,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Text,
        grants -> Text,
        global_admin -> Integer,
        created_on -> Timestamp,
        created_by -> Text,
        expires_on -> Nullable<Timestamp>,
        last_used_on -> Nullable<Timestamp>,
        revoked_on -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        resource_type -> Text,
        resource_id -> Nullable<Text>,
        namespace -> Nullable<Text>,
        context -> Nullable<Text>,
        remote_addr -> Nullable<Text>,
        request_id -> Nullable<Text>,
        details -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        deployment_id -> Text,
        webhook -> Text,
        event -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_on -> Nullable<Timestamp>,
        claimed_by -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_on -> Timestamp,
        delivered_on -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_attempts (notification_id, seq) {
        notification_id -> Text,
        seq -> Integer,
        attempted_on -> Timestamp,
        status -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::joinable!(releases -> services (service_id));
diesel::joinable!(notifications -> deployments (deployment_id));
diesel::joinable!(deployments -> releases (release_id));
diesel::joinable!(deployments -> services (service_id));
diesel::joinable!(deployment_log -> deployments (deployment_id));
diesel::joinable!(releases -> templates (template_id));
diesel::joinable!(release_attributes -> releases (release_id));

diesel::allow_tables_to_appear_in_same_query!(
    services,
    templates,
    releases,
    release_attributes,
    deployments,
    deployment_log
);

diesel::table! {
    lanes (service_id, context) {
        service_id -> Text,
        context -> Text,
        deployment_id -> Text,
        deployment_created_on -> Timestamp,
        version -> Text,
        status -> Text,
        changed_on -> Timestamp,
        running_id -> Nullable<Text>,
        running_created_on -> Nullable<Timestamp>,
        running_version -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        token_id -> Text,
        created_on -> Timestamp,
        expires_on -> Timestamp,
    }
}

diesel::joinable!(lanes -> services (service_id));
diesel::joinable!(sessions -> tokens (token_id));
diesel::allow_tables_to_appear_in_same_query!(lanes, services);
diesel::allow_tables_to_appear_in_same_query!(sessions, tokens);
