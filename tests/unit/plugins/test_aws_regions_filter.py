from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.image_delivery.stack.plugins.filter.aws_known_regions import FilterModule, aws_known_regions


def test_known_regions_come_from_botocore_offline():
    regions = aws_known_regions(None)
    assert "eu-west-1" in regions and "us-east-1" in regions
    assert regions == sorted(regions)
    assert "mars-north-1" not in regions


def test_unknown_service_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="no regions"):
        aws_known_regions(None, "no-such-service")


def test_filter_is_registered():
    assert FilterModule().filters()["aws_known_regions"] is aws_known_regions
