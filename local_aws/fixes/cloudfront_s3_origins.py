"""CloudFront: keep an S3 origin's S3OriginConfig and OriginAccessControlId.

Upstream gap (moto 5.2.5): the Origin model reads S3OriginConfig but stores neither it nor
OriginAccessControlId, so GetDistributionConfig returns an S3 origin without them. A
distribution with a private S3 origin (Origin Access Control) then looks changed on every run,
and the bucket origin looks public.
"""

from __future__ import annotations

from typing import Any

from ._patching import Fix


def s3_origin_fields(origin: dict[str, Any]) -> dict[str, Any]:
    """The S3-origin fields of a request origin that the response must carry back."""
    fields: dict[str, Any] = {"origin_access_control_id": origin.get("OriginAccessControlId", "")}
    if "S3OriginConfig" in origin:
        fields["s3_origin_config"] = {
            "OriginAccessIdentity": origin["S3OriginConfig"].get("OriginAccessIdentity", ""),
            **{k: v for k, v in origin["S3OriginConfig"].items() if k != "OriginAccessIdentity"},
        }
    return fields


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.cloudfront.models import Origin

    original_init = Origin.__init__

    def init(self: Origin, origin: dict[str, Any]) -> None:
        original_init(self, origin)
        for name, value in s3_origin_fields(origin).items():
            setattr(self, name, value)

    return [(Origin, "__init__", init)]


FIX = Fix(
    name="cloudfront-s3-origins",
    upstream_gap="S3 origins lose S3OriginConfig and OriginAccessControlId",
    patches=_patches,
)
