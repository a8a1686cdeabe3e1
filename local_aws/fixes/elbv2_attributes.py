"""ELBv2 DescribeLoadBalancerAttributes: report every attribute, with AWS's defaults.

Upstream gap (moto 5.2.5): a new load balancer reports only four attributes (idle timeout and
others are "commented out for TF compatibility"). Real AWS reports all of them. The
amazon.aws elbv2 helpers read `idle_timeout.timeout_seconds` and the HTTP attributes
unconditionally, so elb_application_lb fails with KeyError 'idle_timeout_timeout_seconds' on any
run that finds the load balancer.
"""

from __future__ import annotations

from typing import Any

from ._patching import Fix

# What DescribeLoadBalancerAttributes returns for a new application load balancer on AWS.
APPLICATION_DEFAULTS = {
    "access_logs.s3.enabled": "false",
    "idle_timeout.timeout_seconds": "60",
    "load_balancing.cross_zone.enabled": "true",
    "routing.http.desync_mitigation_mode": "defensive",
    "routing.http.drop_invalid_header_fields.enabled": "false",
    "routing.http.preserve_host_header.enabled": "false",
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
    "routing.http.xff_client_port.enabled": "false",
    "routing.http.xff_header_processing.mode": "append",
    "routing.http2.enabled": "true",
    "waf.fail_open.enabled": "false",
}


def with_defaults(attributes: dict[str, str], load_balancer_type: str) -> dict[str, str]:
    """Attributes completed with AWS's defaults (set values win); only for application LBs."""
    if load_balancer_type != "application":
        return attributes
    return {**APPLICATION_DEFAULTS, **attributes}


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.elbv2.models import FakeLoadBalancer

    original_init = FakeLoadBalancer.__init__

    def init(self: FakeLoadBalancer, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.attrs = with_defaults(self.attrs, self.type)

    return [(FakeLoadBalancer, "__init__", init)]


FIX = Fix(
    name="elbv2-attributes",
    upstream_gap="new load balancers lack idle_timeout and other default attributes",
    patches=_patches,
)
