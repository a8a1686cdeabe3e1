"""Pure functions to compare and merge CloudFront DistributionConfig documents.

community.aws.cloudfront_distribution rebuilds the whole config from its task arguments and calls
UpdateDistribution on every run. Our module compares the desired document with the current one
field by field (only the fields we set) and updates only when something differs.
"""

from __future__ import annotations

import copy
from typing import Any

# Keys the API fills in that a desired config need not name; never reported as differences.
QUANTITY = "Quantity"
# CloudFront's `Items` lists are sets, answered in the API's own order (AllowedMethods answers
# HEAD, GET where we send GET, HEAD), except cache behaviors, whose order is their precedence.
# Elements that are dicts are matched by their key where they have one.
ORDERED_ITEMS = ("CacheBehaviors.Items",)
ITEM_KEYS = ("Id", "HeaderName", "ErrorCode", "EventType", "FunctionARN", "LambdaFunctionARN")
# Replaced whole, never merged: the API refuses a ViewerCertificate naming two certificate sources.
REPLACED_WHOLE = ("ViewerCertificate",)


def with_quantities(document: Any) -> Any:
    """Add `Quantity` to every dict that has `Items`, as the CloudFront API requires.

    Lists inside are processed too. An explicit Quantity that disagrees with Items is an error,
    because the API would reject it with an unhelpful message.
    """
    if isinstance(document, list):
        return [with_quantities(item) for item in document]
    if not isinstance(document, dict):
        return document
    result = {key: with_quantities(value) for key, value in document.items()}
    if "Items" in result and isinstance(result["Items"], list):
        count = len(result["Items"])
        if QUANTITY in result and result[QUANTITY] != count:
            raise ValueError(f"Quantity {result[QUANTITY]} does not match {count} Items")
        result[QUANTITY] = count
    return result


def config_differences(current: Any, desired: Any, path: str = "") -> list[str]:
    """Paths where `desired` differs from `current`, looking only at what `desired` names.

    Dicts: every key of desired must match (keys only in current are API defaults and ignored).
    Lists: same length and each element matching in order. Scalars: equal. An empty list in
    desired matches a missing key in current (the API omits empty Items).
    """
    if isinstance(desired, dict):
        if not isinstance(current, dict):
            return [path or "."]
        differences: list[str] = []
        for key, value in desired.items():
            child = f"{path}.{key}" if path else key
            if key not in current:
                if value in ([], {}, "", None) or (key == QUANTITY and value == 0):
                    continue
                differences.append(child)
            else:
                differences.extend(config_differences(current[key], value, child))
        return differences
    if isinstance(desired, list):
        if not isinstance(current, list) or len(current) != len(desired):
            return [path]
        if path.endswith("Items") and not path.endswith(ORDERED_ITEMS):
            return set_differences(current, desired, path)
        differences = []
        for index, (have, want) in enumerate(zip(current, desired, strict=True)):
            differences.extend(config_differences(have, want, f"{path}[{index}]"))
        return differences
    return [] if current == desired else [path]


def item_key(items: list[Any]) -> str | None:
    """The key that identifies every element of a list of dicts, if they share one."""
    for key in ITEM_KEYS:
        if items and all(isinstance(item, dict) and key in item for item in items):
            return key
    return None


def set_differences(current: list[Any], desired: list[Any], path: str) -> list[str]:
    """An unordered `Items` list: scalars as a set, dicts matched by their key (or in order)."""
    if all(not isinstance(item, dict | list) for item in desired):
        same = sorted(map(repr, current)) == sorted(map(repr, desired))
        return [] if same else [path]
    key = item_key(desired)
    if key is None or item_key(current) != key:
        differences = []
        for index, (have, want) in enumerate(zip(current, desired, strict=True)):
            differences.extend(config_differences(have, want, f"{path}[{index}]"))
        return differences
    by_key = {item[key]: item for item in current}
    differences = []
    for want in desired:
        child = f"{path}[{key}={want[key]}]"
        if want[key] not in by_key:
            differences.append(child)
        else:
            differences.extend(config_differences(by_key[want[key]], want, child))
    return differences


def merged_config(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """The config to send with UpdateDistribution: current values, overlaid by desired ones.

    Dicts merge key by key (but REPLACED_WHOLE ones are replaced); lists and scalars from desired
    replace the current ones.
    """
    result = copy.deepcopy(current)
    for key, value in desired.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict) and key not in REPLACED_WHOLE:
            result[key] = merged_config(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def with_origin_headers(config: dict[str, Any], headers_by_origin: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Add custom headers (such as a secret origin header) to the named origins.

    Kept apart from the rest of the config so the module can take the values as no_log input.
    """
    result = copy.deepcopy(config)
    origins = result.get("Origins", {}).get("Items", [])
    known = {origin["Id"] for origin in origins}
    unknown = sorted(set(headers_by_origin) - known)
    if unknown:
        raise ValueError(f"secret_origin_headers names unknown origins: {', '.join(unknown)}")
    for origin in origins:
        headers = headers_by_origin.get(origin["Id"])
        if not headers:
            continue
        items = [h for h in origin.get("CustomHeaders", {}).get("Items", []) if h["HeaderName"] not in headers]
        items.extend({"HeaderName": name, "HeaderValue": value} for name, value in sorted(headers.items()))
        origin["CustomHeaders"] = {"Quantity": len(items), "Items": items}
    return result


def find_by_comment(summaries: list[dict[str, Any]], comment: str) -> list[dict[str, Any]]:
    """Distribution summaries whose Comment is exactly `comment` (ListDistributions has no tags)."""
    return [summary for summary in summaries if summary.get("Comment") == comment]
