//! Does a VPC endpoint's policy let a Fargate task do what it needs through that endpoint?
//!
//! An endpoint policy is a resource policy on the endpoint: every request through it must be allowed
//! by a statement and denied by none (the default policy allows everything). The statements are read
//! as AWS evaluates them for an unknown caller (the task's execution role is not known here): a
//! statement for every principal (`"*"`, `{"AWS": "*"}`) without a `Condition` decides; one that
//! names principals or tests conditions may or may not apply, which makes the answer uncertain
//! (a warning), never a pass by itself.

use crate::aws::policy::{glob_covers, glob_match, globs_intersect, has_condition};
use serde_json::Value;

/// One request a task makes through an endpoint: an action on resources matching a pattern (ARN
/// wildcards stand for the accounts, repositories, log groups or keys that are not known here).
#[derive(Debug, Clone)]
pub(crate) struct Access {
    /// `service:Action`.
    pub action: &'static str,
    /// The resources the task may touch, as an ARN pattern (`*` for actions without resources).
    pub resource: String,
}

/// What the policy says about one access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// An unconditional statement for every principal allows it, and no statement may deny it.
    Allowed,
    /// Denied for every caller: by the statement named, or by no statement allowing it.
    Denied(String),
    /// It depends on who the caller is, on conditions, or on which resource: the statement named.
    Uncertain(String),
}

/// The statements that touch the access, as the evaluation sees them.
struct Stmt {
    label: String,
    allow: bool,
    /// Applies to every caller (Principal `*`), with no Condition.
    unconditional: bool,
    actions: Vec<String>,
    not_action: bool,
    resources: Vec<String>,
    not_resource: bool,
}

/// Parses an endpoint's `PolicyDocument` (JSON text; URL-encoded text is decoded first) and decides
/// each access. `Err` when the document cannot be read as a policy.
pub(crate) fn evaluate(document: &str, accesses: &[Access]) -> Result<Vec<Decision>, String> {
    let doc: Value = match serde_json::from_str(document) {
        Ok(v) => v,
        Err(first) => {
            let decoded = percent_encoding::percent_decode_str(document)
                .decode_utf8()
                .map_err(|_| format!("not JSON: {first}"))?;
            serde_json::from_str(&decoded).map_err(|_| format!("not JSON: {first}"))?
        }
    };
    let stmts = statements(&doc)?;
    Ok(accesses.iter().map(|a| decide(&stmts, a)).collect())
}

fn strings(v: &Value, what: &str, label: &str) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("statement `{label}`: `{what}` holds a non-string"))
            })
            .collect(),
        _ => Err(format!(
            "statement `{label}`: `{what}` is not a string or a list"
        )),
    }
}

/// `"*"`, `{"AWS": "*"}` or `{"AWS": ["*"]}`: every caller.
fn everyone(p: &Value) -> bool {
    match p {
        Value::String(s) => s == "*",
        Value::Object(o) => o.iter().any(|(k, v)| {
            k == "AWS"
                && match v {
                    Value::String(s) => s == "*",
                    Value::Array(a) => a.iter().any(|x| x.as_str() == Some("*")),
                    _ => false,
                }
        }),
        _ => false,
    }
}

fn statements(doc: &Value) -> Result<Vec<Stmt>, String> {
    let list: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => return Err("no `Statement`".into()),
    };
    let mut out = Vec::new();
    for (i, s) in list.into_iter().enumerate() {
        let label = s
            .get("Sid")
            .and_then(Value::as_str)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| format!("Statement[{i}]"));
        let allow = match s.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            _ => {
                return Err(format!(
                    "statement `{label}`: `Effect` is not Allow or Deny"
                ))
            }
        };
        let (actions, not_action) = match (s.get("Action"), s.get("NotAction")) {
            (Some(a), None) => (strings(a, "Action", &label)?, false),
            (None, Some(n)) => (strings(n, "NotAction", &label)?, true),
            _ => {
                return Err(format!(
                    "statement `{label}`: needs one of `Action`, `NotAction`"
                ))
            }
        };
        let (resources, not_resource) = match (s.get("Resource"), s.get("NotResource")) {
            (Some(r), None) => (strings(r, "Resource", &label)?, false),
            (None, Some(n)) => (strings(n, "NotResource", &label)?, true),
            // Endpoint policies may leave Resource out: it then means every resource.
            (None, None) => (vec!["*".to_string()], false),
            _ => {
                return Err(format!(
                    "statement `{label}`: has both `Resource` and `NotResource`"
                ))
            }
        };
        let for_everyone =
            s.get("NotPrincipal").is_none() && s.get("Principal").is_none_or(everyone);
        out.push(Stmt {
            label,
            allow,
            unconditional: for_everyone && !s.get("Condition").is_some_and(has_condition),
            actions: actions.iter().map(|a| a.to_ascii_lowercase()).collect(),
            not_action,
            resources,
            not_resource,
        });
    }
    Ok(out)
}

/// How much of the access's resources a statement's resource patterns cover.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Reach {
    None,
    Some,
    All,
}

fn reach(s: &Stmt, resource: &str) -> Reach {
    // Actions without resource-level permissions (ecr:GetAuthorizationToken) are evaluated against
    // the literal resource `*`: only a pattern that matches that text applies.
    if resource == "*" {
        let named = s.resources.iter().any(|p| glob_match(p, "*"));
        return if named != s.not_resource {
            Reach::All
        } else {
            Reach::None
        };
    }
    if s.not_resource {
        if s.resources.iter().any(|p| glob_covers(p, resource)) {
            Reach::None
        } else if s.resources.iter().any(|p| globs_intersect(p, resource)) {
            Reach::Some
        } else {
            Reach::All
        }
    } else if s.resources.iter().any(|p| glob_covers(p, resource)) {
        Reach::All
    } else if s.resources.iter().any(|p| globs_intersect(p, resource)) {
        Reach::Some
    } else {
        Reach::None
    }
}

fn decide(stmts: &[Stmt], a: &Access) -> Decision {
    let action = a.action.to_ascii_lowercase();
    let mut allowed = false;
    let mut maybe_deny: Option<String> = None;
    let mut maybe_allow: Option<String> = None;
    for s in stmts {
        let names = s.actions.iter().any(|p| glob_match(p, &action));
        if names == s.not_action {
            continue;
        }
        let r = reach(s, &a.resource);
        if r == Reach::None {
            continue;
        }
        match (s.allow, s.unconditional && r == Reach::All) {
            (false, true) => {
                return Decision::Denied(format!("statement `{}` denies {}", s.label, a.action))
            }
            (true, true) => allowed = true,
            (false, false) => {
                maybe_deny.get_or_insert(format!(
                    "statement `{}` may deny {} (it names principals, tests a condition or covers only some resources)",
                    s.label, a.action
                ));
            }
            (true, false) => {
                maybe_allow.get_or_insert(format!(
                    "only statement `{}` allows {}, for some principals, conditions or resources",
                    s.label, a.action
                ));
            }
        }
    }
    // A Deny that may apply makes any answer uncertain, whatever the statements' order.
    match (allowed, maybe_deny, maybe_allow) {
        (_, Some(m), _) => Decision::Uncertain(m),
        (true, None, _) => Decision::Allowed,
        (false, None, Some(m)) => Decision::Uncertain(m),
        (false, None, None) => Decision::Denied(format!("no statement allows {}", a.action)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3() -> Vec<Access> {
        vec![Access {
            action: "s3:GetObject",
            resource: "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*".into(),
        }]
    }

    fn one(doc: &str) -> Decision {
        evaluate(doc, &s3()).unwrap().remove(0)
    }

    #[test]
    fn endpoint_policies_as_aws_evaluates_them_for_an_unknown_caller() {
        let full =
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
        assert_eq!(one(full), Decision::Allowed);
        // The common mistake: an S3 gateway endpoint limited to the team's own bucket.
        let own = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-app-bucket/*"}]}"#;
        assert!(matches!(one(own), Decision::Denied(m) if m.contains("no statement")));
        let layers = r#"{"Statement":{"Sid":"layers","Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"]}}"#;
        assert_eq!(one(layers), Decision::Allowed);
        let deny = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Sid":"no","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
        assert!(matches!(one(deny), Decision::Denied(m) if m.contains("`no`")));
        let not_res = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::my-*"}]}"#;
        assert!(matches!(one(not_res), Decision::Denied(_)));
        // Principals and conditions: it depends on the caller.
        let role = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/task"},"Action":"*","Resource":"*"}]}"#;
        assert!(matches!(one(role), Decision::Uncertain(_)));
        let cond = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"1"}}}]}"#;
        assert!(matches!(one(cond), Decision::Uncertain(m) if m.contains("may deny")));
        // URL-encoded, as some API answers are.
        let enc = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%22*%22%2C%22Action%22%3A%22*%22%7D%5D%7D";
        assert_eq!(one(enc), Decision::Allowed);
        assert!(evaluate("{", &s3()).is_err());
        assert!(evaluate(r#"{"Statement":[{"Effect":"Maybe","Action":"*"}]}"#, &s3()).is_err());
        // Only some repositories: uncertain for an unknown one.
        let repos = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:1:repository/team-*"}]}"#;
        let d = evaluate(
            repos,
            &[Access {
                action: "ecr:BatchGetImage",
                resource: "arn:aws:ecr:us-east-1:*:repository/*".into(),
            }],
        )
        .unwrap();
        assert!(matches!(&d[0], Decision::Uncertain(_)));
        // GetAuthorizationToken has no resource-level permissions: a statement naming repositories
        // does not allow it.
        let token = [Access {
            action: "ecr:GetAuthorizationToken",
            resource: "*".into(),
        }];
        assert!(matches!(
            &evaluate(repos, &token).unwrap()[0],
            Decision::Denied(_)
        ));
        assert_eq!(evaluate(full, &token).unwrap()[0], Decision::Allowed);
        // A conditional Deny is reported whatever comes before it.
        let order = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/x"},"Action":"*","Resource":"*"},{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}}]}"#;
        assert!(matches!(one(order), Decision::Uncertain(m) if m.contains("may deny")));
    }
}
