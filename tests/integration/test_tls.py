"""With a certificate: HTTPS listener carries the origin rule, HTTP redirects, CloudFront uses HTTPS."""

from __future__ import annotations

import pytest

from tests.helpers.aws import StackCensus

from .conftest import outputs_of

STACK = "it-tls"


@pytest.fixture(scope="module")
def tls_stack(playbook, local_aws):
    certificate = local_aws.client("acm").request_certificate(DomainName="origin.example.com")["CertificateArn"]
    run = playbook("site.yml", stack=STACK, tls_certificate_arn=certificate)
    assert run.returncode == 0, run.tail()
    yield certificate
    teardown = playbook("playbooks/teardown.yml", stack=STACK)
    assert teardown.returncode == 0, teardown.tail()
    assert StackCensus(local_aws, STACK).everything() == {}


def test_https_listener_requires_the_header_and_http_redirects(tls_stack, local_aws):
    elb = local_aws.client("elbv2")
    lb = elb.describe_load_balancers(Names=[f"{STACK}-alb"])["LoadBalancers"][0]
    listeners = {
        item["Port"]: item for item in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    }
    assert set(listeners) == {80, 443}
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"][0]["CertificateArn"] == tls_stack
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    rules = [r for r in elb.describe_rules(ListenerArn=https["ListenerArn"])["Rules"] if not r["IsDefault"]]
    assert rules[0]["Conditions"][0]["HttpHeaderConfig"]["HttpHeaderName"] == "X-Origin-Verify"
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert (redirect["RedirectConfig"]["Protocol"], redirect["RedirectConfig"]["StatusCode"]) == ("HTTPS", "HTTP_301")


def test_only_443_is_open_to_cloudfront(tls_stack, local_aws):
    groups = local_aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"{STACK}-alb"]}]
    )
    assert [p["FromPort"] for p in groups["SecurityGroups"][0]["IpPermissions"]] == [443]


def test_cloudfront_talks_https_to_the_load_balancer(tls_stack, local_aws):
    cf = local_aws.client("cloudfront")
    config = cf.get_distribution_config(Id=outputs_of(STACK)["cloudfront_distribution_id"])["DistributionConfig"]
    origin = {o["Id"]: o for o in config["Origins"]["Items"]}["load-balancer"]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSslProtocols"]["Items"] == ["TLSv1.2"]
