"""What the cloudfront_function module changes to reach code and config, live (module_utils)."""

from __future__ import annotations

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.cloudfront_function import (
    MAX_CODE_BYTES,
    FunctionPlan,
    Stage,
    check_code,
    desired_config,
    plan,
)

CONFIG = desired_config("fmt=auto", "cloudfront-js-2.0")
CODE = b"function handler(event) { return event.request; }"
OLD = b"function handler(event) { return event.request; } // old"
# DescribeFunction answers more than we set: extra keys are not differences.
ANSWERED = {**CONFIG, "KeyValueStoreAssociations": {"Quantity": 0}}


def test_a_missing_function_is_created_and_published():
    assert plan(None, None, CONFIG, CODE, publish=True) == FunctionPlan(create=True, publish=True)
    assert plan(None, None, CONFIG, CODE, publish=False) == FunctionPlan(create=True)


def test_nothing_changes_when_both_stages_hold_the_code():
    steps = plan(Stage(ANSWERED, CODE), Stage(ANSWERED, CODE), CONFIG, CODE, publish=True)
    assert steps == FunctionPlan() and not steps.changed


def test_new_code_or_config_is_updated_then_published():
    assert plan(Stage(ANSWERED, OLD), Stage(ANSWERED, OLD), CONFIG, CODE, True) == FunctionPlan(
        update=True, publish=True
    )
    other_comment = {**ANSWERED, "Comment": "old"}
    assert plan(Stage(other_comment, CODE), Stage(other_comment, CODE), CONFIG, CODE, True).update


def test_code_updated_but_never_published_is_published():
    """A run that stopped between UpdateFunction and PublishFunction is finished by the next."""
    assert plan(Stage(ANSWERED, CODE), Stage(ANSWERED, OLD), CONFIG, CODE, True) == FunctionPlan(publish=True)
    assert plan(Stage(ANSWERED, CODE), None, CONFIG, CODE, True) == FunctionPlan(publish=True)


def test_code_must_fit_the_quota_and_not_be_empty():
    check_code(b"x" * MAX_CODE_BYTES)
    with pytest.raises(ValueError, match="at most 10240"):
        check_code(b"x" * (MAX_CODE_BYTES + 1))
    with pytest.raises(ValueError, match="empty"):
        check_code(b"  \n")
