"""The AWX job templates run the way AWX runs them: ansible-runner, the template's playbook and the
survey's answers as extra vars, here against the local AWS endpoint. The assertions read runner's
artifacts (status, rc, per-host stats, job events), which is what AWX records of a job."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import ansible_runner
import pytest

from tests.helpers.aws import LocalAws, StackCensus
from tests.helpers.playbook import PROJECT_ROOT, run_playbook

STACK = "awx-jobs"


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict[str, dict]:
    """The job templates as playbooks/awx.yml renders them, by playbook."""
    export = tmp_path_factory.mktemp("awx") / "awx.json"
    run = run_playbook(
        "playbooks/awx.yml", extra_vars={"awx_controller_apply": False, "awx_controller_export_file": str(export)}
    )
    assert run.returncode == 0, run.tail()
    return {template["playbook"]: template for template in json.loads(export.read_text())["job_templates"]}


def survey_answers(template: dict, **answers) -> dict:
    """What AWX sends for a survey: every default, overridden by the given answers. A required
    question left without an answer fails here, as AWX would not launch the job."""
    spec = template["survey_spec"]["spec"]
    values = {item["variable"]: item["default"] for item in spec if "default" in item}
    values.update(answers)
    missing = [item["variable"] for item in spec if item["required"] and item["variable"] not in values]
    assert not missing, f"AWX would ask for {missing}"
    for item in spec:
        value = values.get(item["variable"])
        if item["type"] == "integer":
            assert item.get("min", value) <= value <= item.get("max", value), f"the survey refuses {item['variable']}"
        if item["type"] == "text" and value is not None:
            assert item.get("min", 0) <= len(value) <= item.get("max", len(value)), (
                f"the survey refuses {item['variable']}"
            )
        if item["type"] == "multiplechoice":
            assert value in item["choices"], f"the survey refuses {item['variable']}={value}"
    return values


class Job:
    """One ansible-runner run and its artifacts folder."""

    def __init__(self, runner: ansible_runner.Runner):
        self.runner = runner
        self.artifacts = Path(runner.config.artifact_dir)

    @property
    def status(self) -> str:
        return (self.artifacts / "status").read_text().strip()

    @property
    def rc(self) -> int:
        return int((self.artifacts / "rc").read_text())

    def events(self) -> list[dict]:
        folder = self.artifacts / "job_events"
        return [
            json.loads(path.read_text())
            for path in sorted(folder.glob("*.json"), key=lambda p: int(p.name.split("-")[0]))
        ]

    def stats(self) -> dict:
        final = [event for event in self.events() if event.get("event") == "playbook_on_stats"]
        assert len(final) == 1, "a finished job has exactly one stats event"
        return final[0]["event_data"]

    def changed(self) -> int:
        return sum(self.stats().get("changed", {}).values())

    def failed_tasks(self) -> list[str]:
        return [e.get("event_data", {}).get("task", "") for e in self.events() if e.get("event") == "runner_on_failed"]

    def stdout(self) -> str:
        return (self.artifacts / "stdout").read_text()


@pytest.fixture(scope="module")
def launch(local_aws: LocalAws, tmp_path_factory):
    """launch(playbook, extravars) -> Job: what AWX does for a job of this project on the local
    target (the local inventory stands in for the AWX inventory of an AWS stack)."""
    private_data_dir = tmp_path_factory.mktemp("runner")
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "IMAGE_DELIVERY_ENDPOINT_PORT": str(local_aws.port),
        "IMAGE_DELIVERY_STACK": STACK,
        "ANSIBLE_NOCOLOR": "1",
    }
    # A job template's own extra_vars (not survey questions): the test endpoint and the AWS side only.
    template_extra_vars = {
        "local_endpoint_port": local_aws.port,
        "local_data_plane_enabled": False,
        "catalog_propagation_seconds": 0,
    }

    def run(playbook: str, answers: dict) -> Job:
        runner = ansible_runner.run(
            private_data_dir=str(private_data_dir),
            project_dir=str(PROJECT_ROOT),
            playbook=playbook,
            # The AWS side only, like the rest of this layer: without the data plane the group's
            # instances are records with no container behind them, so the aws_ec2 source (which
            # would list them) is left to the end-to-end layer.
            inventory=[str(PROJECT_ROOT / "inventory/local.yml")],
            extravars={**template_extra_vars, **answers},
            envvars=environment,
            quiet=True,
            timeout=1500,
        )
        return Job(runner)

    return run


def test_the_survey_bounds_are_values_the_roles_accept(templates, launch):
    """The lowest and highest answers each survey allows pass validation; one step outside the
    lower bound (where the roles have one) fails it with the variable's name."""
    deploy = templates["site.yml"]
    bounded = {item["variable"]: item for item in deploy["survey_spec"]["spec"] if item["type"] == "integer"}
    assert {"compute_min_size", "compute_max_size"} <= set(bounded)
    lowest = {name: item["min"] for name, item in bounded.items()}
    highest = {name: item["max"] for name, item in bounded.items()}
    for answers in (lowest, highest, {"stack_name": "a" * 3}, {"stack_name": "a" * 24}):
        job = launch("playbooks/validate.yml", survey_answers(deploy, **answers))
        assert (job.status, job.rc) == ("successful", 0), f"{answers}: {job.stdout()[-2000:]}"
    for name, value in [("compute_min_size", lowest["compute_min_size"] - 1), ("stack_name", "a" * 25)]:
        job = launch("playbooks/validate.yml", {**survey_answers(deploy), name: value})
        assert job.status == "failed", f"{name}={value} passed validation"
        assert name in job.stdout(), f"the failure must name {name}"


def test_the_jobs_deploy_publish_release_and_tear_down(templates, launch, local_aws):
    census = StackCensus(local_aws, STACK)

    deploy = launch("site.yml", survey_answers(templates["site.yml"], stack_name=STACK, compute_max_size=3))
    assert (deploy.status, deploy.rc) == ("successful", 0), deploy.stdout()[-3000:]
    assert deploy.changed() > 20 and not deploy.failed_tasks()
    assert census.ec2_resources, "the deploy job built nothing"
    group = local_aws.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[f"{STACK}-web"])
    assert group["AutoScalingGroups"][0]["MaxSize"] == 3, "the survey answer did not reach the group"

    # A second deploy changing nothing is the same site.yml run as in test_stack.py (twice there,
    # once per stack) and in the end-to-end layer; it is not repeated through runner here.

    publish = launch("playbooks/catalog.yml", survey_answers(templates["playbooks/catalog.yml"], stack_name=STACK))
    assert publish.status == "successful", publish.stdout()[-3000:]
    assert any("Publish the image catalog" in e.get("event_data", {}).get("play", "") for e in publish.events())

    release = launch("playbooks/instances.yml", survey_answers(templates["playbooks/instances.yml"], stack_name=STACK))
    assert release.status == "successful", release.stdout()[-3000:]

    teardown = templates["playbooks/teardown.yml"]
    refused = launch(
        "playbooks/teardown.yml", survey_answers(teardown, stack_name=STACK, teardown_confirm_stack_name="other-stack")
    )
    assert refused.status == "failed" and refused.failed_tasks() == ["Check that the confirmation names this stack"]
    assert refused.changed() == 0 and StackCensus(local_aws, STACK).ec2_resources, (
        "a refused teardown deleted something"
    )

    confirmed = launch(
        "playbooks/teardown.yml", survey_answers(teardown, stack_name=STACK, teardown_confirm_stack_name=STACK)
    )
    assert confirmed.status == "successful", confirmed.stdout()[-3000:]
    assert StackCensus(local_aws, STACK).everything() == {}, "the teardown job left resources behind"
