"""Bad input fails in the first seconds, before any change, naming the variable.

Each case runs site.yml against a port where no endpoint runs: validation must stop the run
before the local endpoint is even started, so nothing at all can change.
"""

from __future__ import annotations

import socket

import pytest

from tests.helpers.playbook import run_playbook

UNUSED_PORT = 5019
STACK = "it-inputs"

CASES = [
    ({"stack_name": "Bad_Name"}, "stack_name"),
    ({"stack_name": "x"}, "stack_name"),
    ({"stack_target": "azure"}, "stack_target"),
    ({"aws_region": "mars-north-1"}, "aws_region"),
    ({"stack_ready_timeout": 2}, "stack_ready_timeout"),
    ({"stack_ready_timeout": "soon"}, "stack_ready_timeout"),
    ({"network_vpc_cidr": "10.20.0.0/33"}, "network_vpc_cidr"),
    ({"network_vpc_cidr": "not-a-cidr"}, "network_vpc_cidr"),
    ({"network_public_subnet_cidrs": ["10.99.0.0/24", "10.99.1.0/24"]}, "network_public_subnet_cidrs"),
    ({"network_private_subnet_cidrs": ["10.20.0.0/24", "10.20.11.0/24"]}, "network_private_subnet_cidrs"),
    ({"compute_min_size": 5}, "compute_min_size"),
    ({"compute_max_size": 1}, "compute_max_size"),
    ({"compute_min_size": "two"}, "compute_min_size"),
    ({"compute_cpu_target": 0}, "compute_cpu_target"),
    ({"security_groups_ssh_cidrs": ["0.0.0.0/0"]}, "security_groups_ssh_cidrs"),
    ({"load_balancer_health_check_interval": 1}, "load_balancer_health_check_"),
    ({"cdn_price_class": "PriceClass_7"}, "cdn_price_class"),
    ({"cdn_api_ttl": {"min": 10, "default": 5, "max": 300}}, "cdn_api_ttl"),
    ({"tls_certificate_arn": "not-an-arn"}, "tls_certificate_arn"),
    # The load balancer takes certificates of its own region only (eu-west-1 here).
    (
        {
            "tls_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
            "origin_domain_name": "o.example.com",
        },
        "the stack's region eu-west-1",
    ),
    # HTTPS to the origin needs a name the certificate covers (no certificate covers *.elb.amazonaws.com).
    ({"tls_certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc"}, "origin_domain_name must name"),
    ({"origin_domain_name": "Origin_Name"}, "origin_domain_name must be a lower-case host name"),
    ({"dns_hosted_zone_id": "Z0123456789ABC"}, "needs origin_domain_name"),
    ({"local_endpoint_host": "0.0.0.0"}, "local_endpoint_host"),
    ({"monitoring_alarm_actions": ["mailto:ops@example.com"]}, "monitoring_alarm_actions"),
    ({"catalog_source_dir": "/nonexistent/images"}, "catalog_source_dir"),
    ({"catalog_max_pixels": 0}, "catalog_max_pixels"),
    ({"catalog_invalidation_rules": {"per_entry": ["/api/images/fixed"]}}, "catalog_invalidation_rules"),
    ({"catalog_invalidation_rules": {"on_any_change": ["/*"], "immutable": ["/images/"]}}, "invalidation_rules"),
]


def port_answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize(("bad_vars", "named"), CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_invalid_input_fails_before_any_change(bad_vars, named):
    assert not port_answers(UNUSED_PORT)
    run = run_playbook(
        "site.yml", extra_vars={"local_endpoint_port": UNUSED_PORT, "stack_name": STACK, **bad_vars}, timeout=120
    )
    assert run.returncode != 0, run.tail()
    assert named in run.output, run.tail(30)
    assert run.stats.get("changed") == 0
    assert "Validate the stack's variables" in run.output.split("fatal:")[0].rsplit("PLAY [", 1)[-1]
    assert not port_answers(UNUSED_PORT), "the local endpoint was started despite invalid input"


def test_valid_input_passes_validation():
    run = run_playbook("playbooks/validate.yml", extra_vars={"stack_name": STACK}, timeout=120)
    assert run.returncode == 0, run.tail()
