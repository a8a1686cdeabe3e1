#!/usr/bin/env python3
"""Write docs/reliability.md from a pytest JUnit report and the figures the tests recorded.

    make reliability        # runs the tests below, then this script
    python scripts/reliability_report.py    # after `make test`: reads the newer JUnit report

Each row names a check and the test that proves it; the result and duration come from the JUnit
report, the measured figure from .state/test-artifacts/reliability/<record>.json (written by
tests.helpers.reliability.record). A row whose test did not run says so.
"""

from __future__ import annotations

import argparse
import json
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT_ROOT / ".state" / "test-artifacts"
RECORDS = ARTIFACTS / "reliability"


@dataclass(frozen=True)
class Row:
    area: str
    check: str
    file: str  # under tests/
    name: str  # a parametrized test's name without the brackets covers every case
    record: str | None = None

    @property
    def test(self) -> str:
        return f"tests/{self.file}::{self.name}"


ROWS = [
    Row("Load", "playbooks/loadtest.yml through the edge: throughput, latency, errors, hit ratio; the local scaler "
        "scales out under load and back in after, within min 2 / max 4 (plot: .state/<stack>/loadtest/*/loadtest.svg)",
        "e2e/test_stack.py", "test_load_scales_the_group_out_and_back_in", "load-test"),
    Row("Smoke", "playbooks/smoke.yml (make smoke) on the local target: a throwaway stack built, checked through "
        "the site (search, original, variant, cache hit), the load balancer refusing a direct request, an "
        "instance terminated and replaced, torn down, nothing of it left",
        "smoke/test_smoke.py", "test_the_smoke_playbook_builds_checks_and_leaves_nothing", "smoke"),
    Row("Ready", "Requests through the edge the moment site.yml ends on a fresh stack (it waits until every "
        "target is healthy and the site answers)",
        "e2e/test_stack.py", "test_the_site_serves_the_moment_site_yml_ends", "first-requests-after-up"),
    Row("Faults", "An instance container killed under load: failures after the health-check window, time to a "
        "serving replacement",
        "e2e/test_stack.py", "test_a_killed_instance_under_load_loses_no_request_after_the_health_check_window",
        "instance-killed"),
    Row("Faults", "An instance whose app hangs (not killed) under load: the group's ELB health check replaces it; "
        "failures after the health-check window, time to replacement and to a serving replacement",
        "e2e/test_stack.py",
        "test_an_unhealthy_instance_is_replaced_and_loses_no_request_after_the_health_check_window",
        "instance-unhealthy"),
    Row("Faults", "The app process killed inside an instance: systemd restarts it; requests during the gap",
        "e2e/test_reliability.py", "test_a_killed_app_process_is_restarted_by_systemd", "app-process-killed"),
    Row("Faults", "A bad release (its app fails /readyz) stops the rolling release after its first batch: the "
        "batch stays in the group's standby (MinSize kept in a tag), the rest of the fleet keeps serving the old "
        "release, releases/current does not move, a rerun brings it back and restores MinSize",
        "e2e/test_reliability.py", "test_a_bad_release_stops_after_its_first_batch_and_the_rest_keeps_serving",
        "bad-release"),
    Row("Faults", "The local AWS endpoint stopped in the middle of site.yml: the run fails, a rerun converges "
        "(every part once, every image published), a third run changes nothing",
        "integration/test_interrupted_run.py", "test_an_endpoint_stopped_mid_run_then_a_rerun_converges",
        "endpoint-stopped"),
    Row("Faults", "A corrupt image published: skipped with a reason, catalog and service intact",
        "integration/test_catalog.py", "test_a_corrupt_image_is_skipped_and_the_catalog_stays_intact",
        "corrupt-image"),
    Row("Faults", "A run that died after planning its invalidation is completed once by the next",
        "integration/test_catalog.py", "test_an_interrupted_run_is_completed_once_by_the_next"),
    Row("Bad input", "schemathesis: generated requests for every operation of the served OpenAPI document, no 5xx, "
        "responses match the document",
        "integration/app/test_api_schema.py", "test_every_operation_answers_within_its_schema", "api-schema"),
    Row("Bad input", "Random query strings on every route never give a 5xx (hypothesis)",
        "integration/app/test_api.py", "test_no_query_string_produces_a_server_error"),
    Row("Bad input", "Raw query bytes on the socket (invalid UTF-8, overlong, NUL, controls, repeated and unknown "
        "keys) on every route: no 5xx, every 4xx a JSON reason",
        "integration/app/test_query_bytes.py", "test_every_route_answers_raw_query_bytes_with_a_json_4xx_or_a_success",
        "api-query-bytes"),
    Row("Bad input", "Unknown, repeated and undecodable parameters are reported (400 naming them), not ignored",
        "integration/app/test_query_bytes.py", "test_unknown_repeated_and_undecodable_parameters_are_reported"),
    Row("Bad input", "Every role argument: an invalid value fails validation naming the variable",
        "integration/test_role_arguments.py", "test_every_invalid_value_fails_naming_the_variable", "role-arguments"),
    Row("Bad input", "Invalid stack-wide inputs fail site.yml before any change",
        "integration/test_inputs.py", "test_invalid_input_fails_before_any_change"),
    Row("Security", "Instances accept traffic only from the load balancer's group",
        "integration/test_stack.py", "test_instances_accept_only_the_load_balancer"),
    Row("Security", "The load balancer accepts only CloudFront's prefix list",
        "integration/test_stack.py", "test_load_balancer_accepts_only_cloudfront"),
    Row("Security", "The load balancer refuses requests without the origin header (running stack)",
        "e2e/test_stack.py", "test_the_load_balancer_refuses_requests_without_the_origin_header"),
    Row("Security", "The bucket is private, encrypted and versioned",
        "integration/test_stack.py", "test_bucket_is_private_encrypted_and_versioned"),
    Row("Security", "Originals reach viewers only through the edge (anonymous bucket reads refused)",
        "e2e/test_stack.py", "test_originals_come_from_the_private_bucket_through_the_edge"),
    Row("Security", "IMDSv2 required, root volume encrypted",
        "integration/test_stack.py", "test_launch_template_requires_imdsv2_and_encrypts_the_root_volume"),
    Row("Security", "The instance role reads only this stack's bucket and table",
        "integration/test_stack.py", "test_instance_role_reads_only_this_stacks_bucket_and_table"),
    Row("Security", "The instance role has Session Manager's minimal permissions: no SSM parameter (another "
        "stack's origin secret) is readable from an instance",
        "integration/test_stack.py", "test_instance_role_can_use_session_manager_but_read_no_parameter"),
    Row("Security", "The SSM transfer bucket is private, encrypted, unversioned, TLS only and emptied daily",
        "integration/test_stack.py",
        "test_the_ssm_transfer_bucket_is_private_unversioned_tls_only_and_emptied_daily"),
    Row("Security", "No secret in the output or the state files of a full run",
        "e2e/test_reliability.py", "test_no_secret_in_the_output_or_logs_of_a_full_run", "secret-in-logs"),
    Row("Security", "No secret in the repository",
        "unit/docs/test_no_secrets.py", "test_no_secret_is_committed", "secret-in-repository"),
    Row("Security", "IAM enforced: from inside each instance, signing as its instance role (no key pair), its own "
        "stack's originals and catalog are readable; writes, another stack's bucket, table and origin secret, and "
        "its own origin secret are denied. The whole e2e build, rerun and teardown ran as the deployer policy",
        "e2e/test_reliability.py", "test_an_instance_signs_as_its_role_and_reaches_only_its_own_stack",
        "iam-instance-role"),
    Row("Security", "IAM enforced: a deployer policy without the statement a call needs is denied that call",
        "unit/local_aws/test_iam_enforcement.py",
        "test_a_policy_without_a_statement_the_run_needs_is_denied_that_call"),
    Row("Security", "The app runs unprivileged", "e2e/test_reliability.py", "test_the_app_runs_unprivileged",
        "app-unprivileged"),
    Row("Security", "Instances listen only on their own address",
        "e2e/test_reliability.py", "test_instances_listen_only_on_their_own_address", "instance-listeners"),
    Row("Security", "HAProxy and the edge listen only where configured",
        "e2e/test_reliability.py", "test_the_load_balancer_and_edge_listen_only_where_configured", "host-listeners"),
]  # fmt: skip


def junit_results(path: Path) -> dict[str, tuple[str, float, int]]:
    """'path::name' -> (outcome, seconds, cases); parametrized cases are folded into one entry."""
    results: dict[str, tuple[str, float, int]] = {}
    if not path.is_file():
        return results
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        name = case.get("name", "").split("[", 1)[0]
        key = f"{module}.py::{name}"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        before = results.get(key, ("passed", 0.0, 0))
        both = (before[0], outcome)
        merged = "failed" if "failed" in both else ("skipped" if "skipped" in both else "passed")
        results[key] = (merged, before[1] + float(case.get("time", 0)), before[2] + 1)
    return results


def figure(record: str | None, records: Path) -> str:
    if record is None:
        return "pass/fail"
    path = records / f"{record}.json"
    if not path.is_file():
        return "not measured in this run"
    entry = json.loads(path.read_text())
    return f"{entry['figure']} (goal: {entry['goal']})"


def render(results: dict[str, tuple[str, float, int]], records: Path = RECORDS) -> str:
    lines = [
        "# Reliability, bad input and security",
        "",
        f"Generated on {time.strftime('%Y-%m-%d', time.gmtime())} by `scripts/reliability_report.py` from a test",
        "run's JUnit report and the figures its tests recorded: `make reliability` runs the tests below and",
        "regenerates it; after a full `make test`, run the script alone. Do not edit by hand.",
        "",
        "| Area | Check | Result | Measured | Test |",
        "|---|---|---|---|---|",
    ]
    for row in ROWS:
        outcome, seconds, cases = results.get(row.test, ("not run", 0.0, 0))
        plural = "s" if cases != 1 else ""
        result = outcome if outcome == "not run" else f"{outcome} ({cases} case{plural}, {seconds:.0f} s)"
        lines.append(f"| {row.area} | {row.check} | {result} | {figure(row.record, records)} | `{row.test}` |")
    lines += [
        "",
        "The load test's plot from the same run (capacity, average CPU against the 50 % target, probe latency;",
        "dashed: end of the load): [loadtest.svg](loadtest.svg), copied from `.state/e2e-stack/loadtest/`.",
        "",
        "The endpoint keeps its state in memory: stopping it loses the emulated account, so the",
        "interrupted-run test proves that nothing left on this machine misleads the rerun.",
        "",
    ]
    return "\n".join(lines)


def newest_junit_report() -> Path:
    """The JUnit report of the latest `make reliability` or `make test` run, whichever is newer."""
    candidates = [ARTIFACTS / "reliability-junit.xml", ARTIFACTS / "junit.xml"]
    existing = [path for path in candidates if path.exists()]
    if not existing:
        raise SystemExit(f"no JUnit report: run `make test` or `make reliability` first ({candidates[0]})")
    return max(existing, key=lambda path: path.stat().st_mtime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--junit", type=Path, help="JUnit report (default: the newer of `make reliability`'s and `make test`'s)"
    )
    parser.add_argument("--records", type=Path, default=RECORDS, help="folder of the recorded figures")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "docs/reliability.md")
    arguments = parser.parse_args()
    junit = arguments.junit or newest_junit_report()
    arguments.output.write_text(render(junit_results(junit), arguments.records))
    print(f"wrote {arguments.output}")


if __name__ == "__main__":
    main()
