from __future__ import annotations

from image_api.similar import MAX_PER_SOURCE, SimilarIndex


def entry(image_id: str, phash: str = "", tags=(), colours=()) -> dict:
    return {"image_id": image_id, "phash": phash, "tags": sorted(tags), "colours": list(colours)}


INDEX = SimilarIndex.build(
    [
        entry("lake", "f0f0f0f00f0f0f0f", ("lake", "water", "summer"), ("blue", "grey")),
        entry("lake-copy", "f0f0f0f00f0f0f0e", ("copy",), ("blue",)),  # 1 bit off, nothing else shared
        entry("sea", "123456789abcdef0", ("water", "summer"), ("blue",)),
        entry("desert", "0fedcba987654321", ("sand",), ("orange",)),
        entry("unknown-hash", "", ("lake", "water", "summer"), ("blue",)),  # every tag shared
    ]
)


def test_the_near_copy_ranks_first_then_shared_tags_and_colours():
    ranked = INDEX.similar("lake", 10)
    assert [image_id for image_id, _score in ranked] == ["lake-copy", "unknown-hash", "sea"]
    assert ranked[0][1] > 0.55 and all(0 <= score <= 1 for _id, score in ranked)


def test_an_image_is_never_its_own_match_and_unrelated_ones_stay_out():
    assert "desert" not in dict(INDEX.similar("lake", 10)) and "lake" not in dict(INDEX.similar("lake", 10))
    assert INDEX.similar("desert", 10) == []
    assert len(INDEX.similar("lake", 1)) == 1


def test_candidates_per_source_are_capped():
    many = [entry(f"tagged-{n:05d}", tags=("common",), colours=("grey",)) for n in range(MAX_PER_SOURCE + 50)]
    index = SimilarIndex.build([entry("zz-probe", tags=("common",), colours=("grey",)), *many])
    assert len(index._candidates(index.entries.ordinal("zz-probe"))) == MAX_PER_SOURCE
