"""Publish a Debian 12 AMI record, so the AMI look-up is the same query as on AWS.

Not a moto bug: moto's built-in image list has Amazon Linux, Ubuntu, RHEL and Windows but no
Debian. The record mirrors the official Debian images (owner 136693071363, name
`debian-12-amd64-<date>`); the local instances actually run the project's Debian 12 base image.
"""

from __future__ import annotations

from typing import Any

from ._patching import Fix

DEBIAN_OWNER_ID = "136693071363"
DEBIAN_12_AMIS = [
    {
        "ami_id": "ami-0deb12a0000000001",
        "state": "available",
        "public": True,
        "owner_id": DEBIAN_OWNER_ID,
        "image_location": f"{DEBIAN_OWNER_ID}/debian-12-amd64-20250101-1000",
        "sriov": "simple",
        "root_device_type": "ebs",
        "root_device_name": "/dev/xvda",
        "description": "Debian 12 (20250101-1000)",
        "image_type": "machine",
        "platform": None,
        "architecture": "x86_64",
        "name": "debian-12-amd64-20250101-1000",
        "virtualization_type": "hvm",
        "hypervisor": "xen",
    },
]


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.ec2.models import amis

    known = {ami["ami_id"] for ami in amis.AMIS}
    extended = list(amis.AMIS) + [dict(ami) for ami in DEBIAN_12_AMIS if ami["ami_id"] not in known]
    return [(amis, "AMIS", extended)]


FIX = Fix(
    name="debian-ami",
    upstream_gap="no Debian image in moto's AMI catalogue",
    patches=_patches,
)
