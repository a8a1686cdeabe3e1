from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

REGION = "eu-west-1"


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in-process, with dummy credentials that cannot reach AWS."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "unit-test-access-key",
        "AWS_SECRET_ACCESS_KEY": "unit-test-secret-key",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ[name] = value
    with mock_aws():
        yield


def client(service: str):
    return boto3.client(service, region_name=REGION)
