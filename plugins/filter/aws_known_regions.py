"""Filters about AWS regions, answered offline from botocore's endpoint data."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: aws_known_regions
short_description: The AWS regions botocore knows for a service
description:
  - Returns the sorted region names of the commercial partition for a service, without calling AWS,
    so that a mistyped region fails before any change.
positional: service
options:
  _input:
    description: Ignored; pass anything (for example C(none)).
    type: raw
    required: true
  service:
    description: The service whose regions are listed.
    type: str
    default: ec2
"""

EXAMPLES = r"""
- name: Fail on an unknown region
  ansible.builtin.assert:
    that: aws_region in (none | aws_known_regions)
"""

RETURN = r"""
_value:
  description: Region names such as C(eu-west-1).
  type: list
  elements: str
"""


def aws_known_regions(_input: object = None, service: str = "ec2") -> list[str]:
    try:
        import botocore.session
    except ImportError as error:  # pragma: no cover - botocore is a hard requirement
        raise AnsibleFilterError("aws_known_regions needs botocore on the controller") from error
    regions = botocore.session.get_session().get_available_regions(service)
    if not regions:
        raise AnsibleFilterError(f"aws_known_regions: botocore knows no regions for service {service!r}")
    return sorted(regions)


class FilterModule:
    def filters(self) -> dict:
        return {"aws_known_regions": aws_known_regions}
