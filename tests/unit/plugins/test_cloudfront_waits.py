"""The CloudFront modules wait with botocore's waiters: a timeout fails the task (it used to return
the distribution as it was), and tags are diffed by amazon.aws's compare_aws_tags. Against moto in
this process, with the local endpoint's invalidation-status fix (AWS's InProgress, then Completed)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.waiting import waiter_config
from moto import mock_aws
from moto.moto_api import state_manager

from local_aws.fixes import applied, cloudfront_invalidation_status
from tests.helpers.cloudfront import MINIMAL_DISTRIBUTION_CONFIG
from tests.helpers.modules import run_module

REGION = "eu-west-1"
CONFIG = MINIMAL_DISTRIBUTION_CONFIG


@pytest.fixture
def aws(monkeypatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "unit-test-access-key",
        "AWS_SECRET_ACCESS_KEY": "unit-test-secret-key",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def distributions_never_deploy() -> Iterator[None]:
    state_manager.set_transition("cloudfront::distribution", {"progression": "manual", "times": 10_000})
    yield
    state_manager.unset_transition("cloudfront::distribution")


def distribution(**arguments: object) -> dict:
    defaults = {"comment": "unit", "caller_reference": "unit", "config": CONFIG, "region": REGION}
    return run_module("cloudfront_distribution_config", **{**defaults, **arguments})


@pytest.mark.parametrize(
    ("timeout", "delay", "expected"),
    [
        (1800, 30, {"Delay": 30, "MaxAttempts": 61}),
        (2, 5, {"Delay": 2, "MaxAttempts": 2}),
        (0, 5, {"Delay": 1, "MaxAttempts": 1}),
    ],
)
def test_the_waiter_polls_for_the_timeout_and_no_longer(timeout, delay, expected):
    assert waiter_config(timeout, delay) == expected
    with pytest.raises(ValueError, match="negative"):
        waiter_config(-1, 5)


def test_waiting_for_a_distribution_that_never_deploys_fails_the_task(aws, distributions_never_deploy):
    result = distribution(wait=True, wait_timeout=2)
    assert result.get("failed"), result
    assert "was not Deployed within 2 s" in result["msg"]


def test_waiting_returns_the_deployed_distribution(aws):
    result = distribution(wait=True, wait_timeout=30)
    assert not result.get("failed"), result
    assert result["status"] == "Deployed"


def test_tags_are_set_and_purged_as_compare_aws_tags_says(aws):
    created = distribution(tags={"Stack": "unit", "Owner": "me"})
    cloudfront = boto3.client("cloudfront", region_name=REGION)

    def tags() -> dict:
        items = cloudfront.list_tags_for_resource(Resource=created["arn"])["Tags"].get("Items", [])
        return {item["Key"]: item["Value"] for item in items}

    assert created["changed"] and tags() == {"Stack": "unit", "Owner": "me"}
    assert not distribution(tags={"Stack": "unit", "Owner": "me"})["changed"]
    kept = distribution(tags={"Stack": "other"}, purge_tags=False)
    assert kept["changed"] and kept["differences"] == ["Tags"]
    assert tags() == {"Stack": "other", "Owner": "me"}
    purged = distribution(tags={"Stack": "other"})
    assert purged["differences"] == ["Tags"]
    assert tags() == {"Stack": "other"}


def invalidate(distribution_id: str, **arguments: object) -> dict:
    return run_module(
        "cloudfront_invalidate", distribution_id=distribution_id, paths=["/api/search*"], region=REGION, **arguments
    )


def test_waiting_for_invalidations_holds_to_the_timeout(aws, monkeypatch):
    with applied([cloudfront_invalidation_status.FIX]):
        distribution_id = distribution()["id"]
        too_short = invalidate(distribution_id, version="v1", wait=True, wait_timeout=1)
        assert too_short.get("failed"), too_short
        assert "not Completed within 1 s" in too_short["msg"]
        monkeypatch.setattr(cloudfront_invalidation_status, "IN_PROGRESS_SECONDS", 1.5)
        waited = invalidate(distribution_id, version="v2", wait=True, wait_timeout=30)
        assert not waited.get("failed"), waited
        assert waited["changed"] and len(waited["invalidation_ids"]) == 1
