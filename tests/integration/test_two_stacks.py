"""Two stacks with different names coexist on one account, and tearing one down spares the other."""

from __future__ import annotations

import pytest

from tests.helpers.aws import StackCensus

from .conftest import outputs_of

STACKS = ("it-alpha", "it-beta")


@pytest.fixture(scope="module")
def two_stacks(playbook, local_aws):
    for stack in STACKS:
        run = playbook("site.yml", stack=stack)
        assert run.returncode == 0, run.tail()
    yield {stack: outputs_of(stack) for stack in STACKS}
    for stack in STACKS:
        playbook("playbooks/teardown.yml", stack=stack)


def test_the_stacks_share_no_resource(two_stacks, local_aws):
    alpha, beta = (two_stacks[s] for s in STACKS)
    for key in ("vpc_id", "bucket", "table", "autoscaling_group", "load_balancer_dns", "cloudfront_distribution_id"):
        assert alpha[key] and beta[key] and alpha[key] != beta[key], key
    census = {stack: StackCensus(local_aws, stack).everything() for stack in STACKS}
    for service in census["it-alpha"]:
        assert not set(census["it-alpha"][service]) & set(census["it-beta"].get(service, [])), service


def test_tearing_one_down_leaves_the_other_intact(two_stacks, playbook, local_aws):
    before = StackCensus(local_aws, "it-beta").everything()
    run = playbook("playbooks/teardown.yml", stack="it-alpha")
    assert run.returncode == 0, run.tail()
    assert StackCensus(local_aws, "it-alpha").everything() == {}
    assert StackCensus(local_aws, "it-beta").everything() == before
    rerun = playbook("site.yml", stack="it-beta")
    assert rerun.returncode == 0, rerun.tail()
    assert rerun.changed == 0, rerun.changed_tasks()
