"""certificate_problems: an ACM certificate (as moto's ACM describes it) against an origin name."""

from __future__ import annotations

import boto3
import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.image_delivery.stack.plugins.filter.certificate_problems import (
    FilterModule,
    certificate_problems,
    name_matches,
)
from moto import mock_aws

from tests.helpers.certificates import self_signed


@pytest.fixture
def acm(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit-test-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit-test-secret-key")
    with mock_aws():
        yield boto3.client("acm", region_name="eu-west-1")


def described(acm, arn: str) -> dict:
    """As amazon.aws.acm_certificate_info returns it."""
    return camel_dict_to_snake_dict(acm.describe_certificate(CertificateArn=arn)["Certificate"])


def imported(acm, *names: str) -> dict:
    certificate, key = self_signed(*names)
    return described(acm, acm.import_certificate(Certificate=certificate, PrivateKey=key)["CertificateArn"])


def test_an_issued_certificate_of_the_region_covering_the_name_has_no_problem(acm):
    assert certificate_problems(imported(acm, "origin.example.com"), "origin.example.com", "eu-west-1") == []


def test_a_wildcard_covers_one_label(acm):
    certificate = imported(acm, "example.com", "*.example.com")
    assert certificate_problems(certificate, "origin.example.com", "eu-west-1") == []
    (problem,) = certificate_problems(certificate, "a.origin.example.com", "eu-west-1")
    assert "not a.origin.example.com" in problem


def test_a_certificate_of_another_region_is_named(acm):
    (problem,) = certificate_problems(imported(acm, "origin.example.com"), "origin.example.com", "us-east-1")
    assert "is in region eu-west-1, not the stack's us-east-1" in problem


def test_a_requested_certificate_is_not_issued_yet(acm):
    arn = acm.request_certificate(DomainName="origin.example.com")["CertificateArn"]
    (problem,) = certificate_problems(described(acm, arn), "origin.example.com", "eu-west-1")
    assert "PENDING_VALIDATION, not ISSUED" in problem


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [("origin.example.com", "Origin.Example.com.", True), ("*.example.com", "example.com", False),
     ("*.example.com", "x.example.com", True), ("*.example.com", "x.y.example.com", False)],
)  # fmt: skip
def test_name_matching_follows_tls(pattern, name, matches):
    assert name_matches(pattern, name) is matches


@pytest.mark.parametrize(("certificate", "name"), [({}, "a.example.com"), ({"certificate_arn": "arn"}, "")])
def test_bad_input_is_a_filter_error(certificate, name):
    with pytest.raises(AnsibleFilterError, match="certificate_problems"):
        certificate_problems(certificate, name, "eu-west-1")


def test_the_filter_is_registered():
    assert FilterModule().filters()["certificate_problems"] is certificate_problems
