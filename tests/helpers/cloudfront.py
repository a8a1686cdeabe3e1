"""A minimal CloudFront distribution config (one custom origin), for tests that need a distribution
and not what it serves."""

from __future__ import annotations

MINIMAL_DISTRIBUTION_CONFIG = {
    "Enabled": True,
    "Origins": {
        "Quantity": 1,
        "Items": [
            {
                "Id": "site",
                "DomainName": "example.com",
                "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"},
            }
        ],
    },
    "DefaultCacheBehavior": {
        "TargetOriginId": "site",
        "ViewerProtocolPolicy": "allow-all",
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        "MinTTL": 0,
    },
}
