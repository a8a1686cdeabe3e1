"""CloudFront Functions as AWS runs them: two stages, ETags that are checked, associations kept.

Upstream gap (moto 5.2.5): CreateFunction, DescribeFunction, GetFunction, ListFunctions and
DeleteFunction exist, but UpdateFunction and PublishFunction do not; a function has one stage
(Stage= is ignored, so LIVE answers before any publish); IfMatch is never compared; DeleteFunction
deletes a function a distribution still uses; and a distribution's FunctionAssociations are
dropped (GetDistributionConfig answers Quantity 0), so an association looks missing on every run
and the local edge could never run it. On AWS (CloudFront API reference: UpdateFunction,
PublishFunction, DeleteFunction, FunctionAssociation; Developer Guide, "Publish functions"):
- a function has a DEVELOPMENT stage, which UpdateFunction changes, and a LIVE stage, which
  PublishFunction copies it to; DescribeFunction and GetFunction answer for the Stage asked
  (DEVELOPMENT by default) and NoSuchFunctionExists for a LIVE stage never published;
- UpdateFunction, PublishFunction and DeleteFunction take the DEVELOPMENT stage's ETag as IfMatch
  and answer PreconditionFailed for any other; each change makes a new ETag;
- a distribution may associate only a published function (InvalidFunctionAssociation otherwise)
  and runs its LIVE code; DeleteFunction answers FunctionInUse while a distribution associates it.
"""

from __future__ import annotations

import copy
from typing import Any

from ._patching import Fix

LIVE, DEVELOPMENT = "LIVE", "DEVELOPMENT"
PUBLISH_PATH = "{0}/2020-05-31/function/(?P<function_name>[^/]+)/publish$"


def error(code: str, message: str) -> Exception:
    from moto.cloudfront.exceptions import CloudFrontException

    return CloudFrontException(code, message)


def check_if_match(function: Any, if_match: str | None) -> None:
    if not if_match:
        raise error("InvalidIfMatchVersion", "The If-Match version is missing or not valid for the resource.")
    if if_match != function.etag:
        raise error(
            "PreconditionFailed", "The precondition given in one or more of the request fields evaluated to false."
        )


def associated_arns(config: Any) -> list[str]:
    """The function ARNs a distribution config (a request dict, or moto's model, which keeps the
    document's keys as attributes with behaviours as objects) associates."""
    fields = config if isinstance(config, dict) else vars(config)
    behaviors = [fields.get("DefaultCacheBehavior") or {}]
    behaviors += list(((fields.get("CacheBehaviors") or {}).get("Items")) or [])
    arns = []
    for behavior in behaviors:
        associations = (
            behavior.get("FunctionAssociations") if isinstance(behavior, dict) else behavior.function_associations
        )
        arns += [association["FunctionARN"] for association in ((associations or {}).get("Items") or [])]
    return arns


def check_associations(backend: Any, config: dict[str, Any]) -> None:
    live = {function.arn for function in backend.functions.values() if getattr(function, "live", None)}
    for arn in associated_arns(config):
        if arn not in live:
            raise error(
                "InvalidFunctionAssociation",
                f"The function {arn} does not exist or is not published: associate a function's LIVE stage.",
            )


def stage_view(function: Any, stage: str | None) -> Any:
    """The function as its stage shows it (a LIVE copy made at publish time)."""
    if (stage or DEVELOPMENT) == DEVELOPMENT:
        return function
    live = getattr(function, "live", None)
    if live is None:
        from moto.cloudfront.exceptions import NoSuchFunctionExists

        raise NoSuchFunctionExists(function.name)
    return live


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.cloudfront import urls
    from moto.cloudfront.models import CloudFrontBackend, CloudFrontFunction, DefaultCacheBehaviour
    from moto.cloudfront.responses import CloudFrontResponse
    from moto.core.responses import ActionResult, EmptyResult
    from moto.core.utils import utcnow
    from moto.moto_api._internal import mock_random

    original_behaviour_init = DefaultCacheBehaviour.__init__
    original_create = CloudFrontBackend.create_distribution_with_tags
    original_update = CloudFrontBackend.update_distribution

    def behaviour_init(self: Any, config: dict[str, Any]) -> None:
        original_behaviour_init(self, config)
        associations = config.get("FunctionAssociations") or {}
        items = list(associations.get("Items") or [])
        self.function_associations = {"Quantity": len(items), "Items": items} if items else {"Quantity": 0}

    def create_distribution_with_tags(self: Any, distribution_config: dict[str, Any], tags: Any) -> Any:
        check_associations(self, distribution_config)
        return original_create(self, distribution_config, tags)

    def update_distribution(self: Any, dist_config: dict[str, Any], _id: str, if_match: Any) -> Any:
        check_associations(self, dist_config or {})
        return original_update(self, dist_config, _id, if_match)

    def update_function(self: Any, name: str, if_match: str, config: dict[str, Any], code: bytes) -> Any:
        function = self.describe_function(name)
        check_if_match(function, if_match)
        function.config, function.code = config, code
        function.last_modified_time = utcnow()
        function.etag = mock_random.get_random_hex(16).upper()
        return function

    def publish_function(self: Any, name: str, if_match: str) -> Any:
        function = self.describe_function(name)
        check_if_match(function, if_match)
        live = copy.copy(function)
        live.stage, live.status = LIVE, "UNASSOCIATED"
        live.etag = mock_random.get_random_hex(16).upper()
        live.last_modified_time = utcnow()
        function.live = live
        return live

    def delete_function(self: Any, name: str, if_match: str) -> None:
        function = self.describe_function(name)
        check_if_match(function, if_match)
        for distribution in self.distributions.values():
            if function.arn in associated_arns(distribution.distribution_config):
                raise error("FunctionInUse", f"The function {name} is associated with distribution {distribution.id}.")
        del self.functions[name]

    def response_update_function(self: Any) -> Any:
        function = self.backend.update_function(
            name=self._get_param("Name"),
            if_match=self._get_param("IfMatch"),
            config=self._get_param("FunctionConfig", {}),
            code=self._get_param("FunctionCode"),
        )
        return ActionResult({"FunctionSummary": function.function_summary, "ETag": function.etag})

    def response_publish_function(self: Any) -> Any:
        live = self.backend.publish_function(name=self._get_param("Name"), if_match=self._get_param("IfMatch"))
        return ActionResult({"FunctionSummary": live.function_summary})

    def response_describe_function(self: Any) -> Any:
        function = stage_view(self.backend.describe_function(self._get_param("Name")), self._get_param("Stage"))
        return ActionResult({"FunctionSummary": function.function_summary, "ETag": function.etag})

    def response_get_function(self: Any) -> Any:
        function = stage_view(self.backend.describe_function(self._get_param("Name")), self._get_param("Stage"))
        return ActionResult(
            {"FunctionCode": function.code, "ETag": function.etag, "ContentType": "application/octet-stream"}
        )

    def response_delete_function(self: Any) -> Any:
        self.backend.delete_function(name=self._get_param("Name"), if_match=self._get_param("IfMatch"))
        return EmptyResult()

    paths = {**urls.url_paths, PUBLISH_PATH: CloudFrontResponse.dispatch}
    return [
        (urls, "url_paths", paths),
        (DefaultCacheBehaviour, "__init__", behaviour_init),
        (CloudFrontBackend, "create_distribution_with_tags", create_distribution_with_tags),
        (CloudFrontBackend, "update_distribution", update_distribution),
        (CloudFrontBackend, "update_function", update_function),
        (CloudFrontBackend, "publish_function", publish_function),
        (CloudFrontBackend, "delete_function", delete_function),
        (CloudFrontFunction, "live", None),
        (CloudFrontResponse, "update_function", response_update_function),
        (CloudFrontResponse, "publish_function", response_publish_function),
        (CloudFrontResponse, "describe_function", response_describe_function),
        (CloudFrontResponse, "get_function", response_get_function),
        (CloudFrontResponse, "delete_function", response_delete_function),
    ]


FIX = Fix(
    name="cloudfront-functions",
    upstream_gap=(
        "no UpdateFunction or PublishFunction, one stage, IfMatch unchecked, functions in use deletable, "
        "and distributions drop their FunctionAssociations"
    ),
    patches=_patches,
)
