"""Security and faults on the running stack: who runs the app, where each server listens, what the
logs of a full run contain, and an app process killed inside an instance under load. Each test
records what it measured for docs/reliability.md. Runs before test_stack.py (file order), whose
last test tears the stack down."""

from __future__ import annotations

import json
import subprocess
import tarfile
import time

import yaml

from tests.helpers.playbook import PROJECT_ROOT
from tests.helpers.reliability import record
from tests.helpers.sockets import command_of, descendants, listening, uid_of

from .conftest import BALANCER_PORT, EDGE_PORT, ORIGIN_ACCESS_PORT, PODMAN, STACK, Stack, SteadyLoad, fetch, run

STATE = PROJECT_ROOT / ".state" / STACK
# The group tag keeping the MinSize a rolling release lowered (the compute role's name for it).
STANDBY_MIN_SIZE_TAG = yaml.safe_load((PROJECT_ROOT / "roles/compute/vars/main.yml").read_text())["compute_standby_tag"]


def podman(*arguments: str) -> str:
    return subprocess.run([PODMAN, *arguments], capture_output=True, text=True, check=True).stdout


def init_pid(container: str) -> int:
    return int(podman("inspect", "--format", "{{.State.Pid}}", container).strip())


def listen_address(container: str, stack: Stack) -> str:
    """The address an instance listens on: 10.a.b.c -> 127.a.b.c."""
    ec2 = stack.aws.client("ec2")
    private = ec2.describe_instances(InstanceIds=[container])["Reservations"][0]["Instances"][0]["PrivateIpAddress"]
    return "127." + ".".join(private.split(".")[1:])


def test_instances_the_first_deployment_configured_do_not_apply_the_release_again(stack):
    """A first deployment starts the instances before any release exists: their first-boot program
    waits, the instances play configures them, and the program must then stop instead of applying
    the same release a second time (which cost each instance about 20 s of full CPU and made the
    scaler scale out for nothing); it completes the group's launch hook instead."""
    containers = sorted(stack.containers())

    def finished(container: str) -> bool:
        return podman("exec", container, "sh", "-c", "cat /var/lib/image-delivery/bootstrap.done || true").strip() != ""

    stack.wait_until(lambda: all(finished(c) for c in containers), timeout=60, what="the first-boot programs ending")
    for container in containers:
        log = podman("exec", container, "cat", "/var/log/user-data.log")
        assert "was applied by the instances play; nothing to apply" in log, log[-2000:]
        assert "applying release" not in log
        # Then it let the group put the instance in service (the launch lifecycle hook).
        assert "serving: launch hook completed" in log, log[-2000:]
        unpacked = podman("exec", container, "sh", "-c", "ls /opt/image-delivery/releases 2>/dev/null || true")
        assert unpacked.strip() == "", "no bundle unpacked"


# Run on an instance with the app's Python (boto3, no key pair: the SDK's default chain finds the
# instance role through the instance metadata service, as on EC2). Prints each call's outcome.
ROLE_PROBE = """
import json, sys
import boto3, botocore.exceptions
calls = json.loads(sys.argv[1])
def outcome(service, operation, parameters):
    try:
        answer = getattr(boto3.client(service), operation)(**parameters)
    except botocore.exceptions.ClientError as error:
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        return "denied" if status == 403 or "AccessDenied" in str(error) else f"error {status}: {error}"
    return answer["Arn"] if operation == "get_caller_identity" else "allowed"
print(json.dumps({name: outcome(*call) for name, call in calls.items()}))
"""


def test_an_instance_signs_as_its_role_and_reaches_only_its_own_stack(stack):
    """IAM enforced (issue: strict emulation): software on an instance has no key pair; it gets
    the instance role's credentials from its metadata service, reads its own stack's bucket and
    table, and is denied another stack's bucket, table and origin secret, its own stack's origin
    secret (the load balancer checks that header, the instances never need it) and any write."""
    admin, other = stack.aws, "other-stack"
    s3, dynamodb = admin.client("s3"), admin.client("dynamodb")
    s3.create_bucket(Bucket=f"{other}-images-e2e", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket=f"{other}-images-e2e", Key="images/x.jpg", Body=b"not yours")
    dynamodb.create_table(
        TableName=f"{other}-catalog", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "image_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "image_id", "AttributeType": "S"}],
    )  # fmt: skip
    admin.client("ssm").put_parameter(Name=f"/{other}/origin-secret", Value="not-yours-either", Type="SecureString")
    bucket, table = stack.outputs["bucket"], stack.outputs["table"]
    own_key = s3.list_objects_v2(Bucket=bucket, Prefix="images/", MaxKeys=1)["Contents"][0]["Key"]
    calls = {
        "identity": ["sts", "get_caller_identity", {}],
        "own original": ["s3", "get_object", {"Bucket": bucket, "Key": own_key}],
        "own catalog": ["dynamodb", "scan", {"TableName": table, "Limit": 1}],
        "write own bucket": ["s3", "put_object", {"Bucket": bucket, "Key": "images/planted.jpg", "Body": "x"}],
        "write own catalog": ["dynamodb", "put_item", {"TableName": table, "Item": {"image_id": {"S": "planted"}}}],
        "other bucket": ["s3", "get_object", {"Bucket": f"{other}-images-e2e", "Key": "images/x.jpg"}],
        "other catalog": ["dynamodb", "scan", {"TableName": f"{other}-catalog", "Limit": 1}],
        "other origin secret": ["ssm", "get_parameter", {"Name": f"/{other}/origin-secret", "WithDecryption": True}],
        "own origin secret": ["ssm", "get_parameter", {"Name": f"/{STACK}/origin-secret", "WithDecryption": True}],
    }
    allowed = {"own original", "own catalog"}
    outcomes = {}
    for container in sorted(stack.containers()):
        answer = podman("exec", container, "/opt/image-api/venv/bin/python", "-c", ROLE_PROBE, json.dumps(calls))
        outcomes[container] = json.loads(answer)
        identity = outcomes[container].pop("identity")
        assert f":assumed-role/{STACK}-instance/{container}" in identity, identity
        assert {name for name, result in outcomes[container].items() if result == "allowed"} == allowed, outcomes
        assert {result for name, result in outcomes[container].items() if name not in allowed} == {"denied"}, outcomes
    denied = sum(len(calls) - 1 - len(allowed) for _ in outcomes)
    record(
        "iam-instance-role", f"{len(outcomes)} instances: own reads allowed, {denied} other calls denied",
        "own stack's reads only", True, outcomes=outcomes,
    )  # fmt: skip


def test_the_app_runs_unprivileged(stack):
    checked = {}
    for container in sorted(stack.containers()):
        app_uid = int(podman("exec", container, "id", "-u", "image-api").strip())
        assert app_uid != 0
        gunicorn = [pid for pid in descendants(init_pid(container)) if "gunicorn" in command_of(pid)]
        assert len(gunicorn) >= 2, "a master and its workers"
        assert {uid_of(pid) for pid in gunicorn} == {app_uid}, "every gunicorn process runs as image-api"
        checked[container] = len(gunicorn)
    record("app-unprivileged", f"{sum(checked.values())} gunicorn processes, all image-api", "none as root", True)


def test_instances_listen_only_on_their_own_address(stack):
    for container in sorted(stack.containers()):
        sockets = listening(descendants(init_pid(container)))
        assert sockets == {(listen_address(container, stack), 80)}, f"{container} listens on {sockets}"
    record("instance-listeners", "NGINX on the instance address, port 80 only", "nothing else", True)


def pid_from(path) -> int:
    return int(path.read_text().split()[0])


def test_the_load_balancer_and_edge_listen_only_where_configured(stack):
    balancer = listening(descendants(pid_from(STATE / "dataplane" / "balancer" / "haproxy.pid")))
    edge = listening(descendants(pid_from(STATE / "dataplane" / "edge" / "nginx.pid")))
    agent = listening(descendants(pid_from(STATE / "dataplane" / "agent.pid")))
    assert balancer == {("127.0.0.1", BALANCER_PORT)}
    assert edge == {("127.0.0.1", EDGE_PORT)}
    assert ("127.0.0.1", ORIGIN_ACCESS_PORT) in agent and all(host == "127.0.0.1" for host, _ in agent)
    record("host-listeners", "HAProxy, edge NGINX, origin signer on 127.0.0.1 and their ports", "only there", True)


def test_no_secret_in_the_output_or_logs_of_a_full_run(stack):
    parameter = f"/{STACK}/origin-secret"
    secret = stack.aws.client("ssm").get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    assert len(secret) >= 32
    assert secret not in stack.site.output, "the origin secret appeared in the site.yml output"
    logs = [path for path in STATE.rglob("*") if path.is_file() and path.suffix in {".log", ".json", ".txt"}]
    leaked = [str(path) for path in logs if secret in path.read_text(errors="replace")]
    assert not leaked, f"the origin secret is written in {leaked}"
    record("secret-in-logs", f"0 of {len(logs)} state files and the run's output", "0", True, files=len(logs))


def answers(url: str) -> bool:
    try:
        return fetch(url, timeout=3).status == 200
    except OSError:
        return False


def running_release(container: str) -> str:
    return podman("exec", container, "cat", "/etc/image-delivery/release").strip()


def announced_release(stack: Stack) -> str:
    """The release new instances boot: releases/current in the bucket."""
    current = stack.aws.client("s3").get_object(Bucket=stack.outputs["bucket"], Key="releases/current")["Body"].read()
    return current.decode().split()[0]


def registered_targets(stack: Stack) -> set[str]:
    elbv2 = stack.aws.client("elbv2")
    health = elbv2.describe_target_health(TargetGroupArn=stack.outputs["target_group_arn"])["TargetHealthDescriptions"]
    return {item["Target"]["Id"] for item in health}


def group_state(stack: Stack) -> tuple[dict[str, str], int, int, dict[str, str]]:
    """The group's lifecycle states, MinSize, desired capacity and tags."""
    autoscaling = stack.aws.client("autoscaling")
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[stack.group_name])["AutoScalingGroups"][0]
    states = {item["InstanceId"]: item["LifecycleState"] for item in group["Instances"]}
    tags = {tag["Key"]: tag["Value"] for tag in group["Tags"]}
    return states, group["MinSize"], group["DesiredCapacity"], tags


def readiness(container: str, stack: Stack) -> int:
    return fetch(f"http://{listen_address(container, stack)}/readyz", timeout=5).status


def test_a_bad_release_stops_after_its_first_batch_and_the_rest_keeps_serving(stack):
    stack.wait_until(
        lambda: len(stack.containers()) == 2 and list(stack.balancer_states().values()).count("UP") == 2,
        timeout=300, interval=5, what="two serving instances",
    )  # fmt: skip
    containers = sorted(stack.containers())
    assert len(containers) == 2
    old = {container: running_release(container) for container in containers}
    assert len(set(old.values())) == 1
    old_release = old[containers[0]]
    assert announced_release(stack) == old_release
    # A release whose app cannot load its catalog (a table that does not exist): /readyz answers 503.
    broken = {"image_api_table": f"{STACK}-no-such-table", "image_api_ready_timeout": 10}
    with SteadyLoad(stack) as load:
        time.sleep(3)
        started = time.monotonic()
        bad = run("playbooks/instances.yml", **broken)
        ended = time.monotonic()
        time.sleep(5)
    assert bad.returncode != 0, bad.tail(60)
    assert "Wait until the API is ready" in bad.output
    failed = sorted(host for host, counts in bad.host_stats.items() if counts["failed"])
    assert len(failed) == 1, bad.tail(40)
    (victim,) = failed
    (survivor,) = set(containers) - {victim}
    assert readiness(victim, stack) == 503
    assert readiness(survivor, stack) == 200
    assert running_release(survivor) == old_release, "the second batch must not have started"
    assert running_release(victim) == old_release, "a failed instance does not record the release"
    assert announced_release(stack) == old_release, "new instances must keep booting the old release"
    assert registered_targets(stack) == {survivor}
    # Out through the group's standby, as on AWS: neither replaced nor health-checked while it
    # waits for a repair; the group at its minimum lowered MinSize for the batch and kept the old one.
    states, min_size, desired, tags = group_state(stack)
    assert states == {victim: "Standby", survivor: "InService"}, states
    assert (min_size, desired, tags.get(STANDBY_MIN_SIZE_TAG)) == (1, 1, "2")
    (bundle,) = (STATE / "releases").glob("*.tar.gz")  # this machine keeps the latest release's bundle only
    with tarfile.open(bundle) as archive:
        settings = json.load(archive.extractfile("release-vars.json"))
        packed_release = archive.extractfile("RELEASE").read().decode().strip()
    assert settings["image_api_table"] == broken["image_api_table"], "a changed setting is a new release"
    assert packed_release == bundle.name.removesuffix(".tar.gz") != old_release
    failures, total = load.failures(), load.count()
    print(f"bad release: stopped on {victim} after {ended - started:.0f}s; {failures} of {total} requests failed")
    assert load.count(started, ended) > 20
    assert failures == 0, "viewers saw the bad release"

    repaired_at = time.monotonic()
    repaired = run("playbooks/instances.yml")
    assert repaired.returncode == 0, repaired.tail(60)
    assert {container: running_release(container) for container in containers} == old
    assert registered_targets(stack) == set(containers), "the repaired instance is back in the target group"
    states, min_size, desired, tags = group_state(stack)
    assert states == {victim: "InService", survivor: "InService"}, states
    assert (min_size, desired, STANDBY_MIN_SIZE_TAG in tags) == (2, 2, False), "MinSize restored, no extra launch"
    stack.wait_until(
        lambda: list(stack.balancer_states().values()).count("UP") == 2, timeout=120, interval=2,
        what="both instances serving again",
    )  # fmt: skip
    repair = time.monotonic() - repaired_at
    print(f"repaired by a rerun in {repair:.0f}s")
    record(
        "bad-release",
        f"stopped after its first batch (1 of 2 instances); {failures} of {total} requests failed; "
        f"releases/current unchanged; a rerun restored both in {repair:.0f}s",
        "stops after one batch, 0 failed",
        failures == 0,
        failed=failures, total=total, release_seconds=round(ended - started), repair_seconds=round(repair),
    )  # fmt: skip


def test_a_killed_app_process_is_restarted_by_systemd(stack):
    victim = sorted(stack.containers())[0]

    def restarts() -> int:
        shown = podman("exec", victim, "systemctl", "show", "image-api.service", "--property", "NRestarts")
        return int(shown.strip().split("=")[1])

    before = restarts()
    master = [pid for pid in descendants(init_pid(victim)) if "gunicorn" in command_of(pid)]
    master_pid = min(master)
    with SteadyLoad(stack) as load:
        time.sleep(5)
        killed_at = time.monotonic()
        subprocess.run(["kill", "-9", str(master_pid)], check=True)
        stack.wait_until(lambda: restarts() > before, timeout=60, interval=0.5, what="systemd restarting the app")
        restarted = time.monotonic() - killed_at
        address = listen_address(victim, stack)
        healthy = stack.wait_until(lambda: answers(f"http://{address}/healthz"), timeout=60, interval=0.5,
                                   what="the instance answering again")  # fmt: skip
        serving = time.monotonic() - killed_at
        assert healthy
        time.sleep(5)
    failed, total = load.failures(killed_at), load.count(killed_at)
    after = load.failures(killed_at + serving + 1)
    print(f"app killed on {victim}: restarted after {restarted:.1f}s, serving after {serving:.1f}s, "
          f"{failed} of {total} requests failed")  # fmt: skip
    record(
        "app-process-killed",
        f"{failed} of {total} requests failed; restarted in {restarted:.1f}s, serving in {serving:.1f}s",
        "systemd restarts it; failures only in the gap",
        True,
        failed=failed, total=total, restart_seconds=round(restarted, 1), serving_seconds=round(serving, 1),
    )  # fmt: skip
    assert after == 0, "requests failed after the app was serving again"
    assert json.loads(podman("inspect", "--format", "json", victim))[0]["State"]["Running"]
