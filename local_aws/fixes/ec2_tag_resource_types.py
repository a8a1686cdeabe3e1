"""EC2 DescribeTags: report the resource types real EC2 reports.

Upstream gap (moto 5.2.5): DescribeTags derives the resource type from moto's id-prefix table,
giving `nat-gateway` and `vpc-elastic-ip` where EC2 says `natgateway` and `elastic-ip`. The
`resource-type` filter has the same mismatch. amazon.aws.ec2_vpc_nat_gateway then sees its tags
as missing and reports changed on every run.
"""

from __future__ import annotations

from typing import Any

from ._patching import Fix

MOTO_TO_EC2_RESOURCE_TYPE = {"nat-gateway": "natgateway", "vpc-elastic-ip": "elastic-ip"}
EC2_TO_MOTO_RESOURCE_TYPE = {v: k for k, v in MOTO_TO_EC2_RESOURCE_TYPE.items()}


def to_moto_filters(filters: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
    """Translate EC2's resource-type filter values into the names moto uses internally."""
    if not filters or "resource-type" not in filters:
        return filters
    translated = dict(filters)
    translated["resource-type"] = [EC2_TO_MOTO_RESOURCE_TYPE.get(value, value) for value in filters["resource-type"]]
    return translated


def to_ec2_tags(tags: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rename moto's internal resource types in DescribeTags results to EC2's names."""
    return [
        {**tag, "resource_type": MOTO_TO_EC2_RESOURCE_TYPE.get(tag["resource_type"], tag["resource_type"])}
        for tag in tags
    ]


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.ec2.models.tags import TagBackend

    original = TagBackend.describe_tags

    def describe_tags(self: TagBackend, filters: dict[str, list[str]] | None = None) -> list[dict[str, str]]:
        return to_ec2_tags(original(self, to_moto_filters(filters)))

    return [(TagBackend, "describe_tags", describe_tags)]


FIX = Fix(
    name="ec2-tag-resource-types",
    upstream_gap="DescribeTags says nat-gateway/vpc-elastic-ip instead of natgateway/elastic-ip",
    patches=_patches,
)
