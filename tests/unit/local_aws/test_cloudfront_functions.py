"""The CloudFront Functions fix: two stages, checked ETags, kept associations (local_aws/fixes)."""

from __future__ import annotations

import copy

import pytest
from botocore.exceptions import ClientError

from local_aws.fixes import applied, cloudfront_functions
from tests.helpers.cloudfront import MINIMAL_DISTRIBUTION_CONFIG
from tests.unit.local_aws.conftest import client

CONFIG = {"Comment": "test", "Runtime": "cloudfront-js-2.0"}
CODE_V1 = b"function handler(event) { return event.request; }"
CODE_V2 = b"function handler(event) { var r = event.request; return r; }"


def error_code(error: pytest.ExceptionInfo) -> str:
    return error.value.response["Error"]["Code"]


def distribution_config(function_arn: str, reference: str = "ref") -> dict:
    config = copy.deepcopy(MINIMAL_DISTRIBUTION_CONFIG)
    config.update(CallerReference=reference, Comment=reference)
    config["DefaultCacheBehavior"]["FunctionAssociations"] = {
        "Quantity": 1,
        "Items": [{"EventType": "viewer-request", "FunctionARN": function_arn}],
    }
    return config


def test_functions_cannot_be_updated_or_published_without_the_fix(aws):
    cf = client("cloudfront")
    etag = cf.create_function(Name="f", FunctionConfig=CONFIG, FunctionCode=CODE_V1)["ETag"]
    with pytest.raises(ClientError):
        cf.publish_function(Name="f", IfMatch=etag)


def test_stages_etags_and_publishing_with_the_fix(aws):
    with applied([cloudfront_functions.FIX]):
        cf = client("cloudfront")
        etag = cf.create_function(Name="f", FunctionConfig=CONFIG, FunctionCode=CODE_V1)["ETag"]
        with pytest.raises(ClientError) as never_published:
            cf.describe_function(Name="f", Stage="LIVE")
        assert error_code(never_published) == "NoSuchFunctionExists"
        with pytest.raises(ClientError) as stale:
            cf.update_function(Name="f", IfMatch="E-NOT-IT", FunctionConfig=CONFIG, FunctionCode=CODE_V2)
        assert error_code(stale) == "PreconditionFailed"
        updated = cf.update_function(Name="f", IfMatch=etag, FunctionConfig=CONFIG, FunctionCode=CODE_V2)["ETag"]
        assert updated != etag
        with pytest.raises(ClientError) as old_etag:
            cf.publish_function(Name="f", IfMatch=etag)
        assert error_code(old_etag) == "PreconditionFailed"
        live = cf.publish_function(Name="f", IfMatch=updated)["FunctionSummary"]
        assert live["FunctionMetadata"]["Stage"] == "LIVE"
        assert cf.get_function(Name="f", Stage="LIVE")["FunctionCode"].read() == CODE_V2
        # The next update changes DEVELOPMENT only: LIVE keeps what was published.
        cf.update_function(Name="f", IfMatch=updated, FunctionConfig=CONFIG, FunctionCode=CODE_V1)
        assert cf.get_function(Name="f", Stage="LIVE")["FunctionCode"].read() == CODE_V2
        assert cf.get_function(Name="f")["FunctionCode"].read() == CODE_V1


def test_associations_are_kept_need_a_published_function_and_hold_deletes_with_the_fix(aws):
    with applied([cloudfront_functions.FIX]):
        cf = client("cloudfront")
        created = cf.create_function(Name="f", FunctionConfig=CONFIG, FunctionCode=CODE_V1)
        arn, etag = created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"], created["ETag"]
        with pytest.raises(ClientError) as unpublished:
            cf.create_distribution(DistributionConfig=distribution_config(arn))
        assert error_code(unpublished) == "InvalidFunctionAssociation"
        cf.publish_function(Name="f", IfMatch=etag)
        distribution = cf.create_distribution(DistributionConfig=distribution_config(arn))["Distribution"]
        kept = cf.get_distribution_config(Id=distribution["Id"])["DistributionConfig"]["DefaultCacheBehavior"]
        assert kept["FunctionAssociations"]["Items"] == [{"EventType": "viewer-request", "FunctionARN": arn}]
        etag = cf.describe_function(Name="f")["ETag"]
        with pytest.raises(ClientError) as in_use:
            cf.delete_function(Name="f", IfMatch=etag)
        assert error_code(in_use) == "FunctionInUse"
        config = cf.get_distribution_config(Id=distribution["Id"])
        without = config["DistributionConfig"]
        without["DefaultCacheBehavior"]["FunctionAssociations"] = {"Quantity": 0}
        cf.update_distribution(Id=distribution["Id"], IfMatch=config["ETag"], DistributionConfig=without)
        cf.delete_function(Name="f", IfMatch=etag)
        assert cf.list_functions()["FunctionList"]["Quantity"] == 0
