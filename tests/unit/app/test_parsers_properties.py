"""Property tests of the request parsers: whatever a query string holds, a parser returns a value
within its bounds or raises the API's 400 error, never anything else (which would be a 5xx)."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from image_api.config import Settings
from image_api.errors import ApiError
from image_api.queries import MAX_MIN_WIDTH, checked_image_id, decode_cursor, encode_cursor, parse_search
from image_api.resize import canonical_query, parse_variant, variant_space

SETTINGS = Settings()
VARIANTS = frozenset(variant_space(SETTINGS))
NAMES = ["q", "tags", "format", "orientation", "min_width", "limit", "cursor", "w", "h", "fit", "fmt", "dpr"]
# Text that looks like numbers to str.isdigit() without being int()-able, among other things.
TRICKY = st.sampled_from(["²", "١٢", "٣", "0x10", "-1", "1e3", " 7", "7 ", "", "0", "9" * 30, "webp", "cover",
                          "landscape", "eyJvIjogMX0", "eyJvIjogLTF9", "eyJvIjogdHJ1ZX0", "\x00", "%00"])  # fmt: skip
VALUES = st.one_of(st.text(max_size=40), TRICKY)
QUERIES = st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=6)


def outcome(parse, *arguments):
    try:
        return parse(*arguments)
    except ApiError as error:
        assert error.status == 400 and error.detail
        return None


@settings(max_examples=600, deadline=None)
@given(QUERIES)
@example({"min_width": "²"})
@example({"limit": "²"})
@example({"w": "²"})
def test_search_and_variant_parsers_answer_400_or_a_bounded_value(query):
    search = outcome(parse_search, query, SETTINGS)
    if search is not None:
        assert 1 <= search.limit <= SETTINGS.max_search_limit
        assert 0 <= search.filters["min_width"] <= MAX_MIN_WIDTH
        assert search.offset >= 0
    variant = outcome(parse_variant, query, SETTINGS)
    if variant is not None:
        assert variant.width in SETTINGS.allowed_widths
        assert variant.height is None or variant.height in SETTINGS.allowed_widths
        assert 1 <= variant.quality <= 95
        # Within the bounded space, and its canonical URL names the same variant (no redirect loop).
        assert variant in VARIANTS
        canonical = canonical_query(variant, SETTINGS)
        assert parse_variant(canonical, SETTINGS) == variant
        assert canonical_query(parse_variant(canonical, SETTINGS), SETTINGS) == canonical


@given(st.text(max_size=60))
def test_a_cursor_is_one_the_api_issued_or_a_400(cursor):
    offset = outcome(decode_cursor, cursor)
    assert offset is None or 0 <= offset <= 10_000_000


@given(st.integers(min_value=0, max_value=10_000_000))
def test_cursors_round_trip(offset):
    assert decode_cursor(encode_cursor(offset)) == offset


@given(st.text(max_size=250))
def test_image_ids_are_checked_not_trusted(image_id):
    checked = outcome(checked_image_id, image_id)
    assert checked is None or (checked == image_id and "/" not in checked and ".." not in checked)
