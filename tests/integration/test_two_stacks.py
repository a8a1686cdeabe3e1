"""Two stacks with different names coexist on one account, and tearing one down spares the other.

The second stack has a certificate (HTTPS listener with the origin rule, HTTP redirects, CloudFront
uses HTTPS to the origin), so the same two builds cover both: one stack fewer to build and tear
down in the integration layer.
"""

from __future__ import annotations

import pytest

from tests.helpers.aws import StackCensus

from .conftest import outputs_of

TLS_STACK = "it-beta"
STACKS = ("it-alpha", TLS_STACK)


@pytest.fixture(scope="module")
def two_stacks(playbook, local_aws):
    certificate = local_aws.client("acm").request_certificate(DomainName="origin.example.com")["CertificateArn"]
    for stack in STACKS:
        extra = {"tls_certificate_arn": certificate} if stack == TLS_STACK else {}
        run = playbook("site.yml", stack=stack, **extra)
        assert run.returncode == 0, run.tail()
    yield {"certificate": certificate, **{stack: outputs_of(stack) for stack in STACKS}}
    for stack in STACKS:
        teardown = playbook("playbooks/teardown.yml", stack=stack)
        assert teardown.returncode == 0, teardown.tail()
        assert StackCensus(local_aws, stack).everything() == {}


def test_the_stacks_share_no_resource(two_stacks, local_aws):
    alpha, beta = (two_stacks[s] for s in STACKS)
    for key in ("vpc_id", "bucket", "table", "autoscaling_group", "load_balancer_dns", "cloudfront_distribution_id"):
        assert alpha[key] and beta[key] and alpha[key] != beta[key], key
    census = {stack: StackCensus(local_aws, stack).everything() for stack in STACKS}
    for service in census["it-alpha"]:
        assert not set(census["it-alpha"][service]) & set(census[TLS_STACK].get(service, [])), service


def test_https_listener_requires_the_header_and_http_redirects(two_stacks, local_aws):
    elb = local_aws.client("elbv2")
    lb = elb.describe_load_balancers(Names=[f"{TLS_STACK}-alb"])["LoadBalancers"][0]
    listeners = {
        item["Port"]: item for item in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    }
    assert set(listeners) == {80, 443}
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"][0]["CertificateArn"] == two_stacks["certificate"]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    rules = [r for r in elb.describe_rules(ListenerArn=https["ListenerArn"])["Rules"] if not r["IsDefault"]]
    assert rules[0]["Conditions"][0]["HttpHeaderConfig"]["HttpHeaderName"] == "X-Origin-Verify"
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert (redirect["RedirectConfig"]["Protocol"], redirect["RedirectConfig"]["StatusCode"]) == ("HTTPS", "HTTP_301")


def test_only_443_is_open_to_cloudfront(two_stacks, local_aws):
    groups = local_aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"{TLS_STACK}-alb"]}]
    )
    assert [p["FromPort"] for p in groups["SecurityGroups"][0]["IpPermissions"]] == [443]


def test_cloudfront_talks_https_to_the_load_balancer(two_stacks, local_aws):
    cf = local_aws.client("cloudfront")
    config = cf.get_distribution_config(Id=outputs_of(TLS_STACK)["cloudfront_distribution_id"])["DistributionConfig"]
    origin = {o["Id"]: o for o in config["Origins"]["Items"]}["load-balancer"]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSslProtocols"]["Items"] == ["TLSv1.2"]


def test_tearing_one_down_leaves_the_other_intact(two_stacks, playbook, local_aws):
    before = StackCensus(local_aws, TLS_STACK).everything()
    run = playbook("playbooks/teardown.yml", stack="it-alpha")
    assert run.returncode == 0, run.tail()
    assert StackCensus(local_aws, "it-alpha").everything() == {}
    assert StackCensus(local_aws, TLS_STACK).everything() == before
    rerun = playbook("site.yml", stack=TLS_STACK, tls_certificate_arn=two_stacks["certificate"])
    assert rerun.returncode == 0, rerun.tail()
    assert rerun.changed == 0, rerun.changed_tasks()
