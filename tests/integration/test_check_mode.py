"""A dry run on an empty endpoint runs through and creates nothing."""

from __future__ import annotations

from tests.helpers.aws import StackCensus

STACK = "it-dry-run"


def test_check_mode_on_an_empty_endpoint_runs_through_and_creates_nothing(playbook, local_aws):
    run = playbook("site.yml", "--check", stack=STACK)
    assert run.returncode == 0, run.tail()
    assert run.stats["failed"] == 0
    assert run.changed > 0, "a dry run of a new stack should report what it would create"
    assert StackCensus(local_aws, STACK).everything() == {}
