use super::*;

fn grant(role: Role, namespace: &str, context: &str) -> Grant {
    Grant {
        role,
        namespace: Pattern::namespace(namespace).unwrap(),
        context: Pattern::context(context).unwrap(),
    }
}

/// The least role each action needs, written out as the API documents it.
const LEAST_ROLE: [(Action, Role); 6] = [
    (Action::Read, Role::Viewer),
    (Action::CreateRelease, Role::Releaser),
    (Action::Deploy, Role::Deployer),
    (Action::Cancel, Role::Deployer),
    (Action::DeleteRelease, Role::Admin),
    (Action::DeleteDeployment, Role::Admin),
];

/// Pattern cases: (grant namespace, grant context, request namespace, request context,
/// namespace matches, context matches).
const PATTERN_CASES: [(&str, &str, &str, &str, bool, bool); 10] = [
    ("*", "*", "default", "prod-eu", true, true),
    ("default", "*", "default", "prod-eu", true, true),
    ("default", "*", "jobs", "prod-eu", false, true),
    ("team-*", "*", "team-a", "prod-eu", true, true),
    ("team-*", "*", "team", "prod-eu", false, true),
    ("team-*", "*", "my-team-a", "prod-eu", false, true),
    ("*", "staging-*", "default", "staging-eu", true, true),
    ("*", "staging-*", "default", "prod-eu", true, false),
    ("*", "prod-eu", "default", "prod-eu", true, true),
    ("*", "prod-eu", "default", "prod-eu-2", true, false),
];

#[test]
fn every_role_action_and_pattern_case() {
    for role in Role::ALL {
        for (action, least) in LEAST_ROLE {
            for (ns_pattern, ctx_pattern, namespace, context, ns_ok, ctx_ok) in PATTERN_CASES {
                let g = grant(role, ns_pattern, ctx_pattern);
                let expected = role >= least && ns_ok && (!action.concerns_context() || ctx_ok);
                assert_eq!(
                    g.allows(action, namespace, Some(context)),
                    expected,
                    "{role} on {ns_pattern}/{ctx_pattern}: {action:?} in {namespace}/{context}"
                );
            }
        }
    }
}

#[test]
fn roles_are_cumulative() {
    assert!(Role::Viewer < Role::Releaser);
    assert!(Role::Releaser < Role::Deployer);
    assert!(Role::Deployer < Role::Admin);
    for (action, least) in LEAST_ROLE {
        assert_eq!(action.least_role(), least, "{action:?}");
    }
}

#[test]
fn only_actions_on_deployments_concern_the_context() {
    let concerned: Vec<Action> = Action::ALL
        .into_iter()
        .filter(|a| a.concerns_context())
        .collect();
    assert_eq!(
        concerned,
        [Action::Deploy, Action::Cancel, Action::DeleteDeployment]
    );
    let g = grant(Role::Admin, "*", "staging-*");
    assert!(g.allows(Action::Read, "default", None));
    assert!(g.allows(Action::DeleteRelease, "default", None));
    assert!(!g.allows(Action::Deploy, "default", None));
}

#[test]
fn any_grant_of_several_allows() {
    let grants = Grants::new(vec![
        grant(Role::Viewer, "*", "*"),
        grant(Role::Deployer, "default", "staging-*"),
    ])
    .unwrap();
    assert!(grants.allows(Action::Read, "jobs", None));
    assert!(!grants.allows(Action::CreateRelease, "jobs", None));
    assert!(grants.allows(Action::CreateRelease, "default", None));
    assert!(grants.allows(Action::Deploy, "default", Some("staging-eu")));
    assert!(!grants.allows(Action::Deploy, "default", Some("prod-eu")));
    assert!(!grants.is_global_admin());
    assert!(Grants::global_admin().is_global_admin());
}

#[test]
fn a_token_holds_one_to_sixteen_grants() {
    assert_eq!(
        Grants::new(Vec::new()).unwrap_err().to_string(),
        "grants must hold 1 to 16 grants, got 0"
    );
    let many = vec![grant(Role::Viewer, "*", "*"); 17];
    assert!(Grants::new(many.clone()).is_err());
    assert!(Grants::new(many[..16].to_vec()).is_ok());
}

#[test]
fn visibility_is_the_union_of_namespace_patterns() {
    let grants = Grants::new(vec![
        grant(Role::Viewer, "jobs", "*"),
        grant(Role::Deployer, "team-*", "prod"),
        grant(Role::Admin, "jobs", "*"),
    ])
    .unwrap();
    let visible = grants.visible_namespaces();
    assert_eq!(
        visible,
        Visibility::Matching(vec![
            Pattern::Exact("jobs".into()),
            Pattern::Prefix("team-".into())
        ])
    );
    assert!(visible.includes("team-a") && visible.includes("jobs"));
    assert!(!visible.includes("default"));
    let all = Grants::new(vec![grant(Role::Viewer, "*", "prod")]).unwrap();
    assert_eq!(all.visible_namespaces(), Visibility::All);
}

#[test]
fn patterns_are_validated() {
    for ok in ["*", "default", "team-*", "a*"] {
        assert!(Pattern::namespace(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "**",
        "te*am",
        "Team",
        "-x",
        "x-",
        "a b",
        "*x",
        &"a".repeat(64),
    ] {
        assert!(Pattern::namespace(bad).is_err(), "{bad:?}");
    }
    for ok in [
        "*",
        "prod-eu",
        "arn:aws:eks:eu-west-1:1:cluster/prod",
        "gke_p_z_*",
    ] {
        assert!(Pattern::context(ok).is_ok(), "{ok}");
    }
    for bad in ["", "a b", "x**", "*x*"] {
        assert!(Pattern::context(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        Pattern::namespace("Team*").unwrap_err().to_string(),
        "namespace must be *, a name, or a name's start followed by * (like staging-*), got \"Team*\""
    );
    assert_eq!(
        Role::parse("root").unwrap_err().to_string(),
        "role must be one of viewer, releaser, deployer, admin, got \"root\""
    );
}

#[test]
fn a_denial_names_the_token_the_action_and_where() {
    let denial = |action, context: Option<&str>| Denial {
        token: "ci-hello-world".into(),
        action,
        namespace: "default".into(),
        context: context.map(str::to_owned),
    };
    assert_eq!(
        denial(Action::Deploy, Some("prod-eu")).to_string(),
        r#"token "ci-hello-world" may not deploy to context "prod-eu" in namespace "default""#
    );
    assert_eq!(
        denial(Action::CreateRelease, None).to_string(),
        r#"token "ci-hello-world" may not create releases in namespace "default""#
    );
    assert_eq!(
        denial(Action::Cancel, Some("prod")).to_string(),
        r#"token "ci-hello-world" may not cancel deployments of context "prod" in namespace "default""#
    );
}
