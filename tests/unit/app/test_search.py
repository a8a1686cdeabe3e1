from __future__ import annotations

import dataclasses
import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from image_api.bitmaps import COMMON_SHARE, CommonBitmaps, bits_of, bits_of_mask, count, first_ordinals
from image_api.catalog_schema import text_tokens
from image_api.search import FIELD_LEVELS, SearchIndex, similarity


def entry(image_id: str, title: str = "", tags: tuple[str, ...] = (), **extra) -> dict:
    return {
        "image_id": image_id,
        "title": title,
        "tags": sorted(tags),
        "format": "jpeg",
        "orientation": "landscape",
        "width": 800,
        "colours": ["grey"],
        **extra,
    }


INDEX = SearchIndex.build(
    [
        entry("photos-red-fox", "Red fox in snow", ("fox", "snow", "wildlife")),
        entry("photos-sunset-lake", "Lake at sunset", ("lake", "sunset"), orientation="portrait", width=400),
        entry("icons-fox-logo", "Fox logo", ("icon",), format="png"),
        entry("photos-snowy-owl", "Snowy owl", ("owl", "bird", "wildlife")),
    ]
)


def test_tags_outrank_titles_and_ids():
    assert INDEX.search("fox").ids == ["photos-red-fox", "icons-fox-logo"]


def test_every_word_must_match_before_partial_matches_are_offered():
    result = INDEX.search("fox snow")
    assert result.ids == ["photos-red-fox"] and result.matched_all_words
    partial = INDEX.search("owl sunset")
    assert set(partial.ids) == {"photos-snowy-owl", "photos-sunset-lake"} and not partial.matched_all_words


def test_prefixes_match_but_rank_below_whole_words():
    assert INDEX.search("sno").ids == ["photos-red-fox", "photos-snowy-owl"]
    assert INDEX.search("s").total == 4  # no usable word (one letter): browse everything, like an empty query


def test_a_typo_falls_back_to_the_closest_word():
    result = INDEX.search("sunsett")
    assert result.ids == ["photos-sunset-lake"]
    assert result.fuzzy and result.suggestion == "sunset"
    assert INDEX.search("qqqqzz").ids == [] and not INDEX.search("qqqqzz").fuzzy


def test_every_query_word_carries_its_own_typos_also_when_the_others_match_exactly():
    result = INDEX.search("snowy owwl")  # a 5-letter word... and a 4-letter one that matches nothing
    assert result.ids == ["photos-snowy-owl"] and result.matched_all_words
    assert result.fuzzy and result.suggestion == "snowy owl"
    assert INDEX.search("wildlfie fox").ids == ["photos-red-fox"]  # a transposition in an 8-letter word


def test_only_the_last_word_is_a_prefix_the_one_being_typed():
    assert INDEX.search("fox sno").ids == ["photos-red-fox"]  # snow (and snowy) as the word is typed
    result = INDEX.search("sno fox")  # a finished word "sno" matches nothing
    assert not result.matched_all_words and result.ids == ["photos-red-fox", "icons-fox-logo"]


def test_exact_matches_rank_above_typo_matches():
    index = SearchIndex.build(
        [
            entry("a-horse", "A horse", ("horse",)),
            entry("b-house", "A house", ("house",)),
            entry("c-house-id-only"),
        ]
    )
    result = index.search("house")
    assert result.ids == ["b-house", "c-house-id-only", "a-horse"] and not result.fuzzy  # typos before weights
    assert index.search("horse").ids == ["a-horse", "b-house", "c-house-id-only"]


def test_the_typo_budget_grows_with_the_word():
    index = SearchIndex.build(
        [entry("space-astronaut", "Astronaut", ("astronaut",)), entry("lake", "Lake", ("lake",)), entry("like", "Like")]
    )
    assert index.search("astrnaut").ids == ["space-astronaut"]  # 8 letters: one typo
    assert index.search("asrtonuat").ids == ["space-astronaut"]  # 9 letters: two
    assert index.search("astrnuat").ids == []  # 8 letters, two typos: past the budget
    assert index.search("lake").ids == ["lake"]  # a 4-letter word that matches: no typo (like is not lake)...
    assert index.search("laek").ids == ["lake"]  # ...one that matches nothing: one (a transposition)


def test_colour_filters_and_colour_words_count_low():
    index = SearchIndex.build(
        [
            entry("a-blue-car", "Car", ("car",), colours=["blue", "grey"]),
            entry("b-red-car", "Car", ("car", "blue"), colours=["red"]),  # tagged blue, but red
            entry("c-blue-sky", "Sky", ("sky",), colours=["blue"]),
        ]
    )
    assert index.search("car", {"colour": "blue"}).ids == ["a-blue-car"]
    assert index.search("", {"colour": "blue"}).ids == ["a-blue-car", "c-blue-sky"]
    assert index.search("blue car").ids == ["b-red-car", "a-blue-car"]  # the tag outweighs the palette
    assert index.search("blue").ids == ["b-red-car", "a-blue-car", "c-blue-sky"]


def test_facets_count_every_match_not_only_the_page():
    result = INDEX.search("wildlife", limit=1, facets=("tags", "colour", "format", "orientation"))
    assert result.ids == ["photos-red-fox"] and result.total == 2
    assert result.facets["tags"] == {"wildlife": 2, "bird": 1, "fox": 1, "owl": 1, "snow": 1}
    assert result.facets["colour"] == {"grey": 2}
    assert result.facets["format"] == {"jpeg": 2} and result.facets["orientation"] == {"landscape": 2}
    everything = INDEX.search("", facets=("format", "orientation"))
    assert everything.facets == {"format": {"jpeg": 3, "png": 1}, "orientation": {"landscape": 3, "portrait": 1}}
    filtered = INDEX.search("", {"format": "png"}, facets=("format",))
    assert filtered.facets == {"format": {"png": 1}}
    assert INDEX.search("fox snow", facets=("tags",)).facets["tags"]["fox"] == 1
    assert INDEX.search("fox").facets == {}  # none asked, none counted


def test_filters_and_paging():
    assert INDEX.search("", {"tags": ["wildlife"]}).ids == ["photos-red-fox", "photos-snowy-owl"]
    assert INDEX.search("fox", {"format": "png"}).ids == ["icons-fox-logo"]
    assert INDEX.search("", {"orientation": "portrait"}).ids == ["photos-sunset-lake"]
    assert INDEX.search("", {"min_width": 500}).total == 3
    page = INDEX.search("", limit=2, offset=2)
    assert page.ids == ["photos-snowy-owl", "photos-sunset-lake"] and page.total == 4


def test_similarity_is_one_for_equal_words_and_low_for_unrelated_ones():
    assert similarity("lake", "lake") == 1.0
    assert similarity("lake", "zebra") < 0.1


def test_every_tag_of_the_demo_set_finds_its_image(demo_index):
    index, entries = demo_index
    for item in entries:
        for tag in item["tags"]:
            result = index.search(tag, limit=1000)
            assert item["image_id"] in result.ids, (tag, item["image_id"])


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_word_with_one_typo_still_finds_images(demo_index, data):
    index, entries = demo_index
    words = sorted({w for e in entries for w in e["tags"] if len(w) >= 5 and " " not in w})
    word = data.draw(st.sampled_from(words))
    position = data.draw(st.integers(min_value=1, max_value=len(word) - 1))
    typo = word[:position] + word[position + 1 :]  # one letter dropped
    assert index.search(typo).ids, typo


def test_a_prefix_of_words_that_are_not_themselves_in_the_catalog_counts_its_matches():
    result = INDEX.search("wildl")
    assert result.total == 2 and result.ids == ["photos-red-fox", "photos-snowy-owl"] and not result.fuzzy


def test_fields_are_listed_by_falling_weight():
    # SearchIndexBuilder.add keeps the first field a word is found in as its weight.
    levels = [level for _, level in FIELD_LEVELS]
    assert levels == sorted(levels)


def reference_search(index: SearchIndex, entries: list[dict], query: str, filters: dict) -> tuple[list[str], int]:
    """The documented ranking, worked out entry by entry from the entries themselves (no postings,
    no masks): the model the index's set work must agree with."""
    from image_api.catalog_schema import text_tokens
    from image_api.search import FIELD_WEIGHTS

    words = text_tokens(query)
    per_word = [index._sources(word, as_prefix=position == len(words) - 1) for position, word in enumerate(words)]

    def weight(entry: dict, word: str) -> float:
        found = [w for name, w in FIELD_WEIGHTS for text in (entry.get(name) if isinstance(entry.get(name), list)
                 else [entry.get(name, "")]) if word in text_tokens(text)]  # fmt: skip
        return max(found, default=0.0)

    def passes(entry: dict) -> bool:
        return (
            all(tag in entry["tags"] for tag in filters.get("tags", []))
            and (not filters.get("colour") or filters["colour"] in entry["colours"])
            and (not filters.get("format") or entry["format"] == filters["format"])
        )

    ranked = []
    for entry in entries:
        best = []
        for sources in per_word:
            found = [(s.typos, -weight(entry, s.word) * s.factor) for s in sources if weight(entry, s.word)]
            best.append(min(found) if found else None)
        ranked.append((entry, [b for b in best if b is not None]))
    every = [(e, b) for e, b in ranked if len(b) == len(per_word)]
    pool = every or [(e, b) for e, b in ranked if b]
    pool = [(e, b) for e, b in pool if passes(e)]
    keys = sorted((-len(b), sum(t for t, _ in b), sum(s for _, s in b), e["image_id"]) for e, b in pool)
    return [key[-1] for key in keys[:10]], len(keys)


WORDS = ["lake", "lakes", "lane", "blue", "bluer", "stone", "stones", "forest", "forrest", "river"]


@settings(max_examples=120, deadline=None)
@given(
    catalog=st.lists(
        st.tuples(
            st.lists(st.sampled_from(WORDS), max_size=3),
            st.lists(st.sampled_from(WORDS), max_size=3),
            st.sampled_from(["jpeg", "png"]),
            st.sampled_from([["blue"], ["grey"], []]),
        ),
        min_size=1,
        max_size=25,
    ),
    query=st.lists(st.sampled_from([*WORDS, "lak", "sto", "rivr", "forst"]), min_size=1, max_size=3),
    filters=st.sampled_from([{}, {"format": "png"}, {"colour": "blue"}, {"tags": ["lake"]}]),
    # Which postings groups the file keeps as bitmaps (the others are set into rows per query):
    # all of a small catalog's by default, those of 3 entries or more, none.
    share=st.sampled_from([COMMON_SHARE, 0.12, 2.0]),
)
def test_the_index_ranks_as_the_entry_by_entry_model(catalog, query, filters, share):
    entries = [
        entry(f"img-{n:03d}", " ".join(title), tuple(sorted(set(tags))), format=fmt, colours=colours)
        for n, (tags, title, fmt, colours) in enumerate(catalog)
    ]
    index = SearchIndex.build(entries)
    bitmaps = CommonBitmaps.build(index.postings.offsets, index.postings.members, index.size, share)
    index = dataclasses.replace(index, bitmaps=bitmaps)
    text = " ".join(query)
    result = index.search(text, filters, limit=10)
    words = text_tokens(text)  # a repeated word counts once
    if not any(index._sources(w, as_prefix=i == len(words) - 1) for i, w in enumerate(words)):
        return  # nothing matches: the closest-word fallback, tested on its own
    assert (result.ids, result.total) == reference_search(index, entries, text, filters)


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(0, 299)), st.integers(1, 300), st.integers(0, 40))
def test_bitmap_rows_hold_exactly_their_ordinals(members, size, wanted):
    ordinals = np.array(sorted(m for m in members if m < size), dtype=np.uint32)
    row = bits_of(ordinals, size)
    mask = np.zeros(size, dtype=bool)
    mask[ordinals] = True
    assert len(row) % 8 == 0 and (row == bits_of_mask(mask)).all() and count(row) == len(ordinals)
    assert first_ordinals(row).tolist() == ordinals.tolist()
    assert first_ordinals(row, wanted).tolist() == ordinals[:wanted].tolist()


def test_ranking_a_slice_of_the_bitmaps_at_a_time_finds_what_the_model_finds():
    """A catalog of several slices (64 entries each here), with the common groups kept as bitmaps
    and the rest set into rows per query: every page as the entry-by-entry model's."""
    randomiser = random.Random(5)
    entries = [
        entry(f"img-{n:04d}", " ".join(randomiser.sample(WORDS, 2)), tuple(randomiser.sample(WORDS, 2)))
        for n in range(700)
    ]
    index = SearchIndex.build(entries)
    bitmaps = CommonBitmaps.build(index.postings.offsets, index.postings.members, index.size, 0.1)
    sliced = dataclasses.replace(index, bitmaps=bitmaps, slice_bytes=8)
    assert 0 < len(bitmaps.keys) < len(index.postings)
    for query in ["lake river", "stone lake", "forest blue", "lakes forrest", "lane sto", "forst rivr"]:
        for filters in [{}, {"tags": ["lake"]}]:
            result = sliced.search(query, filters, limit=10)
            assert (result.ids, result.total) == reference_search(index, entries, query, filters), (query, filters)
            assert result == index.search(query, filters, limit=10)


TAGS = [f"t{n:02d}" for n in range(40)]  # more than a facet lists (FACET_VALUES)


@settings(max_examples=150, deadline=None)
@given(
    catalog=st.lists(
        st.tuples(st.lists(st.sampled_from(TAGS), max_size=4), st.sampled_from(["jpeg", "png", "webp"])),
        min_size=1,
        max_size=90,
    ),
    chosen=st.sets(st.integers(0, 89)),
    share=st.sampled_from([COMMON_SHARE, 0.1, 2.0]),
)
def test_facets_counted_on_bitmaps_are_those_counted_entry_by_entry(catalog, chosen, share):
    """The counts of common values (bitmaps) and of rare ones (counted while they could still make
    the list) are the counts over the entries' own values, in the same order."""
    entries = [
        entry(f"img-{n:03d}", tags=tuple(sorted(set(tags))), format=fmt) for n, (tags, fmt) in enumerate(catalog)
    ]
    index = SearchIndex.build(entries)
    facet_bitmaps = {
        name: CommonBitmaps.build(groups.offsets, groups.members, index.size, share)
        for name, groups in index.by_value.items()
    }
    index = dataclasses.replace(index, facet_bitmaps=facet_bitmaps)
    ordinals = np.array(sorted(n for n in chosen if n < len(entries)), dtype=np.uint32)
    names = ("tags", "colour", "format", "orientation")
    assert index.facet_counts_of_row(bits_of(ordinals, index.size), names) == index.facet_counts(ordinals, names)


def test_a_rare_value_that_ties_the_last_listed_count_is_listed_by_its_name():
    """20 common tags and a rare one ("0rare", 2 entries), each counted twice: the rare one sorts
    first by name, so it must be counted although it could at best tie the 20th count."""
    entries = [entry(f"img-{n:03d}", tags=(f"a{n // 4:02d}",)) for n in range(80)]
    entries += [entry("img-rare-1", tags=("0rare",)), entry("img-rare-2", tags=("0rare",))]
    index = SearchIndex.build(entries)
    groups = index.by_value["tags"]
    facet_bitmaps = {**index.facet_bitmaps, "tags": CommonBitmaps.build(groups.offsets, groups.members, 82, 3 / 82)}
    index = dataclasses.replace(index, facet_bitmaps=facet_bitmaps)
    assert 0 < len(facet_bitmaps["tags"].keys) < len(groups)  # the a.. tags have bitmaps, 0rare not
    chosen = sorted([n for n in range(80) if n % 4 < 2] + [index.entries.ordinal("img-rare-1"), 81])
    ordinals = np.array(chosen, dtype=np.uint32)
    counted = index.facet_counts_of_row(bits_of(ordinals, index.size), ["tags"])["tags"]
    assert counted == index.facet_counts(ordinals, ["tags"])["tags"]
    assert next(iter(counted)) == "0rare" and len(counted) == 20 and set(counted.values()) == {2}
