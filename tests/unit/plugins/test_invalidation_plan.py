from __future__ import annotations

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.invalidation_plan import (
    MAX_FILE_PATHS,
    PlanError,
    affected_paths,
    batches,
    billable_paths,
    caller_reference,
    covers,
    is_wildcard,
    overlaps_immutable,
    plan_paths,
    rules_from,
)
from hypothesis import given, settings
from hypothesis import strategies as st

RULES = {
    "on_any_change": ["/api/search*", "/image/*"],
    "per_entry": ["/api/images/{image_id}"],
    "per_content": ["/img/{image_id}*"],
    "immutable": ["/images/"],
    "collapse_above": 20,
}


def change(added=(), changed=(), content_changed=(), removed=()) -> dict:
    return {
        "added": list(added),
        "changed": sorted({*changed, *content_changed}),
        "content_changed": list(content_changed),
        "removed": list(removed),
    }


def test_the_content_keys_prefix_is_immutable_whether_listed_or_not():
    assert rules_from({}).immutable == ("/images/",)
    assert rules_from({"immutable": ["/static/", "/images/"]}).immutable == ("/images/", "/static/")


def test_no_change_needs_no_invalidation():
    assert plan_paths(change(), rules_from(RULES)) == []


def test_one_added_image_invalidates_the_catalog_wide_paths_and_its_own():
    assert plan_paths(change(added=["cat"]), rules_from(RULES)) == [
        "/api/images/cat",
        "/api/search*",
        "/image/*",
        "/img/cat*",
    ]


def test_a_metadata_change_leaves_the_resized_variants_alone():
    assert "/img/cat*" not in plan_paths(change(changed=["cat"]), rules_from(RULES))
    assert "/img/cat*" in plan_paths(change(content_changed=["cat"]), rules_from(RULES))


def test_many_paths_in_one_folder_collapse_to_its_wildcard():
    ids = [f"image-{n}-x" for n in range(21)]  # no id is a prefix of another
    assert plan_paths(change(removed=ids), rules_from(RULES)) == ["/api/images/*", "/api/search*", "/image/*", "/img/*"]


def test_pending_paths_are_merged_and_covered_ones_dropped():
    planned = plan_paths(change(), rules_from(RULES), pending=["/api/images/x", "/image/a", "/image/*"])
    assert planned == ["/api/images/x", "/image/*"]


def test_too_many_wildcards_collapse_into_parents():
    rules = rules_from({**RULES, "per_content": ["/img/{image_id}*"], "max_wildcards": 3})
    planned = plan_paths(change(content_changed=[f"i{n}" for n in range(5)]), rules)
    assert sum(map(is_wildcard, planned)) <= 3
    assert "/img/*" in planned


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"per_entry": ["/api/images/fixed"]}, "must contain {image_id}"),
        ({"on_any_change": ["api/search"]}, "starting with '/'"),
        ({"on_any_change": ["/a*/b"]}, "only allowed as the last"),
        ({"on_any_change": ["/images/*"], "immutable": ["/images/"]}, "overlaps an immutable prefix"),
        ({"on_any_change": ["/*"], "immutable": ["/images/"]}, "overlaps an immutable prefix"),
        ({"on_any_change": ["/images/*"]}, "overlaps an immutable prefix"),
        ({"per_content": ["/images/{image_id}"], "immutable": []}, "overlaps an immutable prefix"),
        ({"max_wildcards": 16}, "cannot exceed"),
        ({"collapse_above": 0}, "positive integer"),
        ({"unknown": []}, "unknown invalidation rule keys"),
        ([], "must be a mapping"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(rules, message):
    with pytest.raises(PlanError, match=message):
        rules_from(rules)


def test_batches_respect_cloudfront_limits():
    paths = [f"/api/images/{n}" for n in range(MAX_FILE_PATHS + 5)] + [f"/w{n}/*" for n in range(17)]
    split = batches(paths)
    assert len(split) == 2
    assert all(sum(map(is_wildcard, b)) <= 15 and sum(not is_wildcard(p) for p in b) <= MAX_FILE_PATHS for b in split)
    assert sorted(p for b in split for p in b) == sorted(paths)


def test_caller_references_depend_on_version_and_path_set_only():
    assert caller_reference("v1", ["/b", "/a"]) == caller_reference("v1", ["/a", "/b"])
    assert caller_reference("v1", ["/a"]) != caller_reference("v2", ["/a"])
    assert caller_reference("v1", ["/a"]) != caller_reference("v1", ["/a", "/b"])


def test_billable_paths_start_after_the_free_thousand():
    assert billable_paths(999) == 0
    assert billable_paths(1250) == 250


# Property tests: whatever the change, the plan covers every stale path, keeps the limits and never
# touches content-addressed keys.

ids = st.lists(st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,4})?", fullmatch=True), max_size=60, unique=True)


@st.composite
def changes(draw) -> dict:
    pool = draw(ids)
    picks = [draw(st.sampled_from(["added", "changed", "content_changed", "removed"])) for _ in pool]
    grouped = {kind: [i for i, k in zip(pool, picks, strict=True) if k == kind] for kind in set(picks)}
    return change(**grouped)


@settings(max_examples=300, deadline=None)
@given(changes(), st.integers(min_value=1, max_value=40), st.integers(min_value=3, max_value=15))
def test_plans_cover_every_stale_path_within_limits(diff, collapse_above, max_wildcards):
    rules = rules_from({**RULES, "collapse_above": collapse_above, "max_wildcards": max_wildcards})
    planned = plan_paths(diff, rules)
    stale = affected_paths(diff, rules)
    for path in stale:
        assert path in planned or any(covers(w, path) for w in planned), path
    assert sum(map(is_wildcard, planned)) <= max_wildcards
    assert not any(overlaps_immutable(p, rules.immutable) for p in planned)
    assert len(planned) <= max(len(stale), 1)
    assert planned == sorted(set(planned))
