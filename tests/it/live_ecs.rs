//! ECS read live through the AWS SDK, against moto (started here on 127.0.0.1) behind a proxy that
//! pages long lists as ECS does: `verify-taskdef --family` / ARN, and `[[ecs]]` audit targets (every
//! service of a cluster or of every cluster, one result each, for the platform each runs on), with
//! images on the real docker-registry.

use crate::common;

use common::aws_pager::Pager;
use common::contract::{run, AuditJson, Out, TaskdefJson, Verdicted};
use common::moto::{aws_env, Moto, KEY};
use common::proxy::Proxy;
use common::registry::{Flavour, Registry};
use common::shipcheck;
use serde_json::json;

const ECS: &str = "AmazonEC2ContainerServiceV20141113";

/// Registers a task definition: `family` running `image` on `cpu` (`X86_64` or `ARM64`).
fn register(moto: &Moto, family: &str, image: &str, cpu: &str) -> String {
    let v = moto.json(
        &format!("{ECS}.RegisterTaskDefinition"),
        &json!({
            "family": family,
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": "256",
            "memory": "512",
            "runtimePlatform": {"cpuArchitecture": cpu, "operatingSystemFamily": "LINUX"},
            "containerDefinitions": [{"name": "app", "image": image, "essential": true}],
        }),
    );
    v["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .unwrap()
        .to_string()
}

fn cluster(moto: &Moto, name: &str) {
    moto.json(
        &format!("{ECS}.CreateCluster"),
        &json!({ "clusterName": name }),
    );
}

fn service(moto: &Moto, cluster: &str, name: &str, taskdef: &str) {
    service_on(moto, cluster, name, taskdef, "FARGATE");
}

fn service_on(moto: &Moto, cluster: &str, name: &str, taskdef: &str, launch_type: &str) {
    moto.json(
        &format!("{ECS}.CreateService"),
        &json!({
            "cluster": cluster,
            "serviceName": name,
            "taskDefinition": taskdef,
            "desiredCount": 1,
            "launchType": launch_type,
        }),
    );
}

/// shipcheck with AWS pointed at `endpoint` (moto or the pager in front of it).
fn aws_cmd(endpoint: &str, key: (&str, &str)) -> (assert_cmd::Command, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = shipcheck();
    aws_env(&mut cmd, &[("ECS", endpoint)], key, home.path());
    (cmd, home)
}

#[test]
fn verify_taskdef_reads_a_family_revision_or_arn_from_ecs() {
    let reg = Registry::plain();
    reg.push_multi("team/app", "v1", false);
    reg.push_image("team/amd-only", "linux/amd64", Flavour::Oci, Some("v1"));
    let h = reg.host();
    let moto = Moto::start();
    let first = register(&moto, "web", &format!("{h}/team/app:v1"), "ARM64");
    // Revision 2 runs an image without arm64 on ARM64.
    register(&moto, "web", &format!("{h}/team/amd-only:v1"), "ARM64");

    let verify = |args: &[&str]| {
        let (mut cmd, home) = aws_cmd(&moto.url(), KEY);
        cmd.args(["verify-taskdef", "--json"]).args(args);
        let out: Out<TaskdefJson> = run(cmd);
        drop(home);
        out
    };

    let out = verify(&["--family", "web:1"]);
    out.exit(0);
    let j = &out.json;
    assert_eq!(j.arn.as_deref(), Some(first.as_str()));
    assert_eq!(j.revision, Some(1));
    assert_eq!(j.family.as_deref(), Some("web"));
    assert_eq!(j.platform.as_deref(), Some("linux/arm64"));
    assert_eq!(j.path, "web:1");
    assert_eq!(j.containers.len(), 1);

    // The ARN instead of a file.
    let out = verify(&[&first]);
    out.exit(0);
    assert_eq!(out.json.revision, Some(1));

    // The family alone is its latest revision: 2, which cannot run on ARM64.
    let out = verify(&["--family", "web"]);
    out.exit(1);
    assert_eq!(out.json.revision, Some(2));
    assert_eq!(out.json.codes(), ["missing-platform"], "{}", out.stdout);

    let out = verify(&["--family", "nope"]);
    out.exit(2);
    assert_eq!(out.json.codes(), ["not-found"], "{}", out.stdout);
    assert!(
        out.json.reasons[0].message.contains("`nope`"),
        "{}",
        out.stdout
    );

    // A pinned copy is written from a file only: --pin with --family is a usage error.
    let (mut cmd, _home) = aws_cmd(&moto.url(), KEY);
    cmd.args([
        "verify-taskdef",
        "--family",
        "web",
        "--pin",
        "--output",
        "x.json",
    ]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// 50 services in one cluster (17 pages of ListServices), one in another, `cluster = "*"`: one
/// result per service, the ARM64 service whose image lacks arm64 fails by name, API calls overlap,
/// and each task definition is read once and each image's content fetched once.
#[test]
fn audits_every_service_of_every_cluster() {
    let reg = Registry::plain();
    let (_, app) = reg.push_multi("team/app", "v1", false);
    reg.push_image("team/amd-only", "linux/amd64", Flavour::Oci, Some("v1"));
    // Images are read through a proxy that logs every registry request.
    let proxy = Proxy::start(reg.port);
    let h = format!("127.0.0.1:{}", proxy.port);
    let moto = Moto::start();
    let pager = Pager::start(moto.port);
    let web = register(&moto, "web", &format!("{h}/team/app:v1"), "X86_64");
    let api = register(&moto, "api", &format!("{h}/team/app:v1"), "ARM64");
    let batch = register(&moto, "batch", &format!("{h}/team/amd-only:v1"), "ARM64");
    cluster(&moto, "prod");
    cluster(&moto, "staging");
    for i in 0..49 {
        let td = if i % 2 == 0 { &web } else { &api };
        service(&moto, "prod", &format!("svc-{i:02}"), td);
    }
    service(&moto, "prod", "arm-batch", &batch);
    service(&moto, "staging", "web", &web);

    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("audit.toml");
    std::fs::write(&file, "[[ecs]]\ncluster = \"*\"\n").unwrap();
    let (mut cmd, _home) = aws_cmd(&pager.url(), KEY);
    cmd.args(["audit", "--json"]).arg(&file);
    let out: Out<AuditJson> = run(cmd);
    out.exit(1);
    let results = &out.json.results;
    assert_eq!(results.len(), 51, "{}", out.stdout);
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.verdict() != common::contract::Verdict::Pass)
        .map(|r| r.target.as_str())
        .collect();
    assert_eq!(failed, ["prod/arm-batch"], "{}", out.stdout);
    let bad = out.json.result("prod/arm-batch");
    assert_eq!(bad.kind, "ecs");
    assert_eq!(bad.codes(), ["missing-platform"]);
    let svc = bad.ecs();
    assert_eq!(
        (svc.cluster.as_str(), svc.service.as_str()),
        ("prod", "arm-batch")
    );
    assert_eq!(svc.region, "us-east-1");
    assert_eq!(svc.task_definitions.len(), 1);
    assert_eq!(svc.task_definitions[0].arn.as_deref(), Some(batch.as_str()));
    assert_eq!(svc.task_definitions[0].revision, Some(1));
    assert!(
        svc.reasons[0].message.contains("batch:1")
            && svc.reasons[0].message.contains("linux/arm64"),
        "{:?}",
        svc.reasons
    );
    let staging = out.json.result("staging/web");
    assert_eq!(
        staging.ecs().task_definitions[0].platform.as_deref(),
        Some("linux/amd64")
    );
    let api_svc = out.json.result("prod/svc-01");
    assert_eq!(
        api_svc.ecs().task_definitions[0].platform.as_deref(),
        Some("linux/arm64")
    );

    // Every page was read, task definitions once each, and calls overlapped.
    assert_eq!(pager.calls("ListClusters"), 1);
    assert_eq!(
        pager.calls("ListServices"),
        17 + 1,
        "50 services in pages of 3, and 1"
    );
    assert_eq!(
        pager.calls("DescribeServices"),
        5 + 1,
        "at most 10 services per call"
    );
    assert_eq!(pager.calls("DescribeTaskDefinition"), 3);
    assert!(pager.peak() >= 2, "API calls were made one at a time");

    // The shared image's tag is resolved once per task definition (web, api), not per service,
    // and each platform manifest is fetched once.
    let log = proxy.log();
    let gets = |path: &str| {
        log.iter()
            .filter(|l| l.method == "GET" && l.path == path)
            .count()
    };
    assert_eq!(gets("/v2/team/app/manifests/v1"), 2, "{log:?}");
    for m in &app {
        assert_eq!(
            gets(&format!("/v2/team/app/manifests/{}", m.digest)),
            1,
            "{log:?}"
        );
    }
}

/// A registry holding the two-platform `team/app:v1`, and moto with the cluster `prod` and the
/// task definition `web` (ARM64, that image): its ARN.
fn prod_with_web() -> (Registry, Moto, String) {
    let reg = Registry::plain();
    reg.push_multi("team/app", "v1", false);
    let moto = Moto::start();
    let web = register(
        &moto,
        "web",
        &format!("{}/team/app:v1", reg.host()),
        "ARM64",
    );
    cluster(&moto, "prod");
    (reg, moto, web)
}

#[test]
fn named_services_task_sets_and_missing_ones() {
    let (reg, moto, web) = prod_with_web();
    service(&moto, "prod", "web", &web);
    service(&moto, "prod", "other", &web);
    // No runtimePlatform: Fargate runs X86_64, EC2 capacity runs whatever the instances are.
    let legacy = moto.json(
        &format!("{ECS}.RegisterTaskDefinition"),
        &json!({
            "family": "legacy",
            "containerDefinitions": [{"name": "app", "image": format!("{}/team/app:v1", reg.host()), "memory": 128}],
        }),
    )["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .unwrap()
        .to_string();
    service_on(&moto, "prod", "on-ec2", &legacy, "EC2");
    service(&moto, "prod", "on-fargate", &legacy);
    // A blue/green service (external controller): what it runs is in its task sets. Its task set
    // runs an amd64-only image on ARM64.
    reg.push_image("team/amd-only", "linux/amd64", Flavour::Oci, Some("v1"));
    let amd_only = register(
        &moto,
        "amd-only",
        &format!("{}/team/amd-only:v1", reg.host()),
        "ARM64",
    );
    moto.json(
        &format!("{ECS}.CreateService"),
        &json!({"cluster": "prod", "serviceName": "bluegreen", "desiredCount": 1,
                "deploymentController": {"type": "EXTERNAL"}}),
    );
    moto.json(
        &format!("{ECS}.CreateTaskSet"),
        &json!({"cluster": "prod", "service": "bluegreen", "taskDefinition": amd_only,
                "launchType": "FARGATE"}),
    );

    let d = tempfile::tempdir().unwrap();
    let audit = |text: &str| {
        let file = d.path().join("audit.toml");
        std::fs::write(&file, text).unwrap();
        let (mut cmd, _home) = aws_cmd(&moto.url(), KEY);
        cmd.args(["audit", "--json"]).arg(&file);
        run::<AuditJson>(cmd)
    };

    let out = audit("[[ecs]]\ncluster = \"prod\"\nservices = [\"web\"]\n");
    out.exit(0);
    assert_eq!(out.json.results.len(), 1);
    assert_eq!(out.json.results[0].target, "prod/web");

    let out = audit("[[ecs]]\ncluster = \"prod\"\nservices = [\"on-ec2\", \"on-fargate\"]\n");
    out.exit(0);
    let on_ec2 = out.json.result("prod/on-ec2").ecs();
    assert_eq!(
        on_ec2.warning_codes(),
        ["not-evaluated", "mutable-tag"],
        "{}",
        out.stdout
    );
    assert!(on_ec2.warnings[0].message.contains("linux/amd64 only"));
    let on_fargate = out.json.result("prod/on-fargate").ecs();
    assert_eq!(
        on_fargate.warning_codes(),
        ["mutable-tag"],
        "{}",
        out.stdout
    );

    let out = audit("[[ecs]]\ncluster = \"prod\"\nservices = [\"bluegreen\"]\n");
    out.exit(1);
    let bg = out.json.results[0].ecs();
    assert_eq!(bg.codes(), ["missing-platform"], "{}", out.stdout);
    assert_eq!(
        bg.task_definitions[0].arn.as_deref(),
        Some(amd_only.as_str())
    );

    let out = audit("[[ecs]]\ncluster = \"prod\"\nservices = [\"web\", \"gone\"]\n");
    out.exit(2);
    let gone = out.json.result("prod/gone");
    assert_eq!(gone.codes(), ["not-found"]);

    let out = audit("[[ecs]]\ncluster = \"nowhere\"\n");
    out.exit(2);
    assert_eq!(out.json.results[0].codes(), ["not-found"], "{}", out.stdout);
    assert!(out.json.results[0].ecs().reasons[0]
        .message
        .contains("`nowhere`"));
}

#[test]
fn a_caller_without_ecs_permission_is_told_which_action_it_needs() {
    // moto enforces IAM permissions after the set-up's 3 calls.
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]);
    let (id, secret) = moto.user_with_key("auditor");
    cluster(&moto, "prod");

    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("audit.toml");
    std::fs::write(&file, "[[ecs]]\ncluster = \"prod\"\n").unwrap();
    let (mut cmd, _home) = aws_cmd(&moto.url(), (&id, &secret));
    cmd.args(["audit", "--json"]).arg(&file);
    let out: Out<AuditJson> = run(cmd);
    out.exit(2);
    let r = &out.json.results[0];
    assert_eq!(r.codes(), ["access-denied"], "{}", out.stdout);
    assert!(
        r.ecs().reasons[0].message.contains("ecs:ListServices"),
        "{}",
        out.stdout
    );

    let (mut cmd, _home) = aws_cmd(&moto.url(), (&id, &secret));
    cmd.args(["verify-taskdef", "--json", "--family", "web"]);
    let out: Out<TaskdefJson> = run(cmd);
    out.exit(2);
    assert_eq!(out.json.codes(), ["access-denied"], "{}", out.stdout);
    assert!(out.json.reasons[0]
        .message
        .contains("ecs:DescribeTaskDefinition"));
}

/// Two `[[ecs]]` targets reach the same task definition, one with `deep = true`: each gets the
/// verdict of its own check. The audit checks a task definition once per way of checking it, so
/// the deep target's layer check is never skipped because a shallow target got there first (a wrong
/// pass), nor does the shallow target inherit the deep target's failure.
#[test]
fn a_deep_target_never_reuses_a_shallow_check_of_the_same_task_definition() {
    let reg = Registry::plain();
    let m = reg.push_image("team/app", "linux/amd64", Flavour::Oci, Some("v1"));
    let layer = serde_json::from_slice::<serde_json::Value>(&m.body).unwrap()["layers"][0]
        ["digest"]
        .as_str()
        .unwrap()
        .to_string();
    reg.delete_blob("team/app", &layer);
    let moto = Moto::start();
    let web = register(
        &moto,
        "web",
        &format!("{}/team/app:v1", reg.host()),
        "X86_64",
    );
    cluster(&moto, "prod");
    service(&moto, "prod", "web", &web);

    let d = tempfile::tempdir().unwrap();
    for (first, second) in [("false", "true"), ("true", "false")] {
        let file = d.path().join("audit.toml");
        std::fs::write(
            &file,
            format!(
                "[[ecs]]\ncluster = \"prod\"\ndeep = {first}\n\n[[ecs]]\ncluster = \"prod\"\ndeep = {second}\n"
            ),
        )
        .unwrap();
        let (mut cmd, _home) = aws_cmd(&moto.url(), KEY);
        cmd.args(["audit", "--json"]).arg(&file);
        let out: Out<AuditJson> = run(cmd);
        out.exit(1);
        assert_eq!(out.json.results.len(), 2, "{}", out.stdout);
        for (r, deep) in out.json.results.iter().zip([first, second]) {
            assert_eq!(r.target, "prod/web");
            if deep == "true" {
                assert_eq!(r.codes(), ["missing-content"], "deep: {}", out.stdout);
            } else {
                assert_eq!(
                    r.verdict(),
                    common::contract::Verdict::Pass,
                    "shallow: {}",
                    out.stdout
                );
            }
        }
    }
}

/// `DescribeServices` also answers for a deleted service (`INACTIVE`) and for one being deleted
/// (`DRAINING`). A deleted service named in `services` is `not-found` (exit 2), as a missing one
/// is; it was checked, and passed. Listing the cluster never reports it (moto lists it; ECS does
/// not). A draining service may still run tasks: it is checked, with a `service-draining`
/// warning (moto cannot make one: the tests' pager rewrites the status). A service named twice
/// is checked and reported once.
#[test]
fn deleted_draining_and_repeated_services() {
    let (_reg, moto, web) = prod_with_web();
    let pager = Pager::start(moto.port);
    service(&moto, "prod", "web", &web);
    service(&moto, "prod", "old", &web);
    moto.json(
        &format!("{ECS}.DeleteService"),
        &json!({"cluster": "prod", "service": "old", "force": true}),
    );

    let d = tempfile::tempdir().unwrap();
    let audit = |endpoint: &str, text: &str| {
        let file = d.path().join("audit.toml");
        std::fs::write(&file, text).unwrap();
        let (mut cmd, _home) = aws_cmd(endpoint, KEY);
        cmd.args(["audit", "--json"]).arg(&file);
        run::<AuditJson>(cmd)
    };

    let named = "[[ecs]]\ncluster = \"prod\"\nservices = [\"web\", \"web\", \"old\"]\n";
    let out = audit(&moto.url(), named);
    out.exit(2);
    let targets: Vec<&str> = out.json.results.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets.len(), 2, "{}", out.stdout);
    assert!(targets.contains(&"prod/web") && targets.contains(&"prod/old"));
    assert_eq!(
        out.json.result("prod/web").verdict(),
        common::contract::Verdict::Pass
    );
    let old = out.json.result("prod/old");
    assert_eq!(old.codes(), ["not-found"], "{}", out.stdout);
    assert!(old.ecs().reasons[0].message.contains("INACTIVE"));

    let out = audit(&moto.url(), "[[ecs]]\ncluster = \"prod\"\n");
    out.exit(0);
    let targets: Vec<&str> = out.json.results.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["prod/web"], "{}", out.stdout);

    pager.rewrite("DescribeServices", "\"INACTIVE\"", "\"DRAINING\"");
    let out = audit(
        &pager.url(),
        "[[ecs]]\ncluster = \"prod\"\nservices = [\"old\"]\n",
    );
    out.exit(0);
    let old = out.json.result("prod/old").ecs();
    assert!(
        old.warning_codes().contains(&"service-draining"),
        "{}",
        out.stdout
    );
    assert!(old.warnings.iter().any(|w| w.message.contains("DRAINING")));
}
