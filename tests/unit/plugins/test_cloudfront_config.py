from __future__ import annotations

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.cloudfront_config import (
    config_differences,
    find_by_comment,
    merged_config,
    with_origin_headers,
    with_quantities,
)

CURRENT = {
    "Comment": "stack",
    "Enabled": True,
    "Aliases": {"Quantity": 0},
    "Origins": {
        "Quantity": 1,
        "Items": [
            {
                "Id": "alb",
                "DomainName": "alb.example",
                "OriginPath": "",
                "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Origin-Verify", "HeaderValue": "s1"}]},
                "ConnectionAttempts": 3,
            }
        ],
    },
    "DefaultCacheBehavior": {"TargetOriginId": "alb", "MinTTL": 0, "DefaultTTL": 60, "SmoothStreaming": False},
}


def desired(**changes):
    config = {
        "Comment": "stack",
        "Enabled": True,
        "Aliases": {"Items": []},
        "Origins": {"Items": [{"Id": "alb", "DomainName": "alb.example", "OriginPath": ""}]},
        "DefaultCacheBehavior": {"TargetOriginId": "alb", "MinTTL": 0, "DefaultTTL": 60},
    }
    config.update(changes)
    return with_origin_headers(with_quantities(config), {"alb": {"X-Origin-Verify": "s1"}})


def test_quantities_are_added_everywhere():
    document = with_quantities({"A": {"Items": [{"B": {"Items": [1, 2]}}]}, "C": {"Items": []}})
    assert document == {
        "A": {"Items": [{"B": {"Items": [1, 2], "Quantity": 2}}], "Quantity": 1},
        "C": {"Items": [], "Quantity": 0},
    }


def test_a_wrong_explicit_quantity_is_an_error():
    with pytest.raises(ValueError, match="Quantity 3"):
        with_quantities({"Items": [1], "Quantity": 3})


def test_same_config_has_no_differences_despite_api_defaults():
    assert config_differences(CURRENT, desired()) == []


def test_changed_scalars_lists_and_missing_keys_are_reported_by_path():
    changed = desired(Enabled=False, PriceClass="PriceClass_All")
    changed["Origins"]["Items"][0]["DomainName"] = "other.example"
    assert config_differences(CURRENT, changed) == [
        "Enabled",
        "Origins.Items[Id=alb].DomainName",
        "PriceClass",
    ]


def test_a_changed_secret_header_is_a_difference_without_its_value():
    rotated = with_origin_headers(desired(), {"alb": {"X-Origin-Verify": "s2"}})
    differences = config_differences(CURRENT, rotated)
    assert differences == ["Origins.Items[Id=alb].CustomHeaders.Items[HeaderName=X-Origin-Verify].HeaderValue"]
    assert not any("s2" in path for path in differences)


def test_list_length_changes_are_differences():
    more = desired()
    more["Origins"]["Items"].append({"Id": "bucket", "DomainName": "b.s3.amazonaws.com"})
    del more["Origins"]["Quantity"]
    assert config_differences(CURRENT, with_quantities(more)) == ["Origins.Items", "Origins.Quantity"]


def test_merge_keeps_current_values_the_desired_config_does_not_name():
    merged = merged_config(CURRENT, desired(Enabled=False))
    assert merged["Enabled"] is False
    assert merged["DefaultCacheBehavior"]["SmoothStreaming"] is False
    assert merged["Origins"]["Items"][0].get("ConnectionAttempts") is None  # lists are replaced whole
    assert CURRENT["Enabled"] is True  # inputs are not modified


def test_origin_headers_replace_same_named_headers_and_reject_unknown_origins():
    config = {
        "Origins": {"Items": [{"Id": "alb", "CustomHeaders": {"Items": [{"HeaderName": "X-A", "HeaderValue": "1"}]}}]}
    }
    result = with_origin_headers(config, {"alb": {"X-A": "2", "X-B": "3"}})
    assert result["Origins"]["Items"][0]["CustomHeaders"] == {
        "Quantity": 2,
        "Items": [{"HeaderName": "X-A", "HeaderValue": "2"}, {"HeaderName": "X-B", "HeaderValue": "3"}],
    }
    with pytest.raises(ValueError, match="unknown origins: nope"):
        with_origin_headers(config, {"nope": {"X": "1"}})


def test_find_by_comment_is_exact():
    summaries = [{"Id": "A", "Comment": "stack"}, {"Id": "B", "Comment": "stack two"}, {"Id": "C"}]
    assert [s["Id"] for s in find_by_comment(summaries, "stack")] == ["A"]


def behavior(methods: list[str], cached: list[str], path: str = "/api/*") -> dict:
    return {
        "PathPattern": path,
        "AllowedMethods": {"Quantity": len(methods), "Items": methods,
                           "CachedMethods": {"Quantity": len(cached), "Items": cached}},
    }  # fmt: skip


def test_items_the_api_answers_in_its_own_order_are_the_same():
    """AWS answers AllowedMethods as HEAD, GET (and headers, aliases) in an order of its own."""
    current = {"CacheBehaviors": {"Items": [behavior(["HEAD", "GET", "OPTIONS"], ["HEAD", "GET"])]},
               "Aliases": {"Items": ["b.example", "a.example"]}}  # fmt: skip
    wanted = {"CacheBehaviors": {"Items": [behavior(["GET", "HEAD", "OPTIONS"], ["GET", "HEAD"])]},
              "Aliases": {"Items": ["a.example", "b.example"]}}  # fmt: skip
    assert config_differences(current, wanted) == []
    wanted["Aliases"]["Items"] = ["a.example", "c.example"]
    assert config_differences(current, wanted) == ["Aliases.Items"]


def test_origins_and_headers_are_matched_by_their_key_not_their_place():
    current = {"Origins": {"Items": [{"Id": "s3", "DomainName": "b.s3"}, {"Id": "alb", "DomainName": "alb"}]}}
    assert config_differences(current, {"Origins": {"Items": [{"Id": "alb", "DomainName": "alb"},
                                                              {"Id": "s3", "DomainName": "b.s3"}]}}) == []  # fmt: skip
    changed = {"Origins": {"Items": [{"Id": "alb", "DomainName": "other"}, {"Id": "s3", "DomainName": "b.s3"}]}}
    assert config_differences(current, changed) == ["Origins.Items[Id=alb].DomainName"]


def test_cache_behaviors_keep_their_order_it_is_their_precedence():
    first, second = (
        behavior(["GET", "HEAD"], ["GET", "HEAD"], "/a/*"),
        behavior(["GET", "HEAD"], ["GET", "HEAD"], "/b/*"),
    )
    differences = config_differences({"CacheBehaviors": {"Items": [first, second]}},
                                     {"CacheBehaviors": {"Items": [second, first]}})  # fmt: skip
    assert "CacheBehaviors.Items[0].PathPattern" in differences


def test_switching_to_an_acm_certificate_replaces_the_default_one():
    current = {"ViewerCertificate": {"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1",
                                     "CertificateSource": "cloudfront"}}  # fmt: skip
    acm = {"ACMCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x", "SSLSupportMethod": "sni-only",
           "MinimumProtocolVersion": "TLSv1.2_2021"}  # fmt: skip
    assert "ViewerCertificate.ACMCertificateArn" in config_differences(current, {"ViewerCertificate": acm})
    assert merged_config(current, {"ViewerCertificate": acm})["ViewerCertificate"] == acm
    back = merged_config({"ViewerCertificate": acm}, {"ViewerCertificate": {"CloudFrontDefaultCertificate": True}})
    assert back["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
