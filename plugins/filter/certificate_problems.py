"""Whether an ACM certificate can serve a name on a load balancer of a given region."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: certificate_problems
short_description: What keeps an ACM certificate from serving a name on a load balancer
description:
  - Takes one certificate as amazon.aws.acm_certificate_info describes it and names every reason it
    cannot serve O(name) on a load balancer in O(region). An empty list means it can.
  - A load balancer's listener takes only an issued certificate of its own region, and CloudFront
    checks that the origin's certificate covers the origin domain name (the name itself or a
    wildcard of one left-most label, as TLS matches names); otherwise viewers get 502 errors.
positional: name, region
options:
  _input:
    description: One element of C(certificates) of amazon.aws.acm_certificate_info.
    type: dict
    required: true
  name:
    description: The domain name the certificate must cover.
    type: str
    required: true
  region:
    description: The load balancer's region.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Fail unless the certificate serves the origin name
  ansible.builtin.assert:
    that: (found.certificates | first | certificate_problems(origin_domain_name, aws_region)) | length == 0
"""

RETURN = r"""
_value:
  description: One sentence per problem; empty when the certificate can serve the name.
  type: list
  elements: str
"""


def name_matches(pattern: str, name: str) -> bool:
    """TLS name matching (RFC 6125): exact, or a wildcard standing for one left-most label."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern == name:
        return True
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return False


def certificate_problems(certificate: Any, name: str, region: str) -> list[str]:
    if not isinstance(certificate, Mapping) or not certificate.get("certificate_arn"):
        raise AnsibleFilterError("certificate_problems: expected a certificate from acm_certificate_info")
    if not isinstance(name, str) or not name:
        raise AnsibleFilterError("certificate_problems: name must be a non-empty domain name")
    arn = certificate["certificate_arn"]
    parts = arn.split(":")
    problems = []
    if len(parts) < 6 or parts[3] != region:
        problems.append(f"{arn} is in region {parts[3] if len(parts) > 3 else '?'}, not the stack's {region}")
    status = certificate.get("status", "unknown")
    if status != "ISSUED":
        problems.append(f"{arn} is {status}, not ISSUED")
    names = [certificate.get("domain_name", ""), *(certificate.get("subject_alternative_names") or [])]
    if not any(name_matches(pattern, name) for pattern in names if pattern):
        problems.append(f"{arn} covers {', '.join(sorted(set(filter(None, names))))}, not {name}")
    return problems


class FilterModule:
    def filters(self) -> dict:
        return {"certificate_problems": certificate_problems}
