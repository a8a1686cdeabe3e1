from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from image_api.errors import ApiError
from image_api.query_string import parse_query_string
from image_api.resize import VARIANT_PARAMETERS

from tests.helpers.playbook import PROJECT_ROOT

SEARCH = ("q", "limit")


def as_wsgi(raw: bytes) -> str:
    """What a WSGI server hands over as QUERY_STRING: the raw bytes as latin-1 text (PEP 3333)."""
    return raw.decode("latin-1")


def refusal(raw: bytes, allowed=SEARCH, **options) -> str:
    with pytest.raises(ApiError) as raised:
        parse_query_string(as_wsgi(raw), allowed, **options)
    assert raised.value.status == 400
    return raised.value.detail


def test_percent_encoded_utf8_plus_signs_and_empty_pairs():
    assert parse_query_string(as_wsgi(b"q=caf%C3%A9+au+lait&&limit=3&"), SEARCH) == {"q": "café au lait", "limit": "3"}
    assert parse_query_string(as_wsgi("q=café".encode()), SEARCH) == {"q": "café"}  # raw UTF-8 bytes too
    assert parse_query_string("q", SEARCH) == {"q": ""} and parse_query_string("", SEARCH) == {}


def test_unknown_repeated_and_undecodable_parameters_are_refused_with_the_reason():
    assert "unknown parameter 'color': this route takes q, limit" in refusal(b"q=fox&color=red")
    assert "takes no parameters" in refusal(b"x=1", ())
    assert "q is given more than once" in refusal(b"q=a&q=b")
    assert "not valid UTF-8" in refusal(b"q=%FF%FE")
    assert "not valid UTF-8" in refusal(b"q=%C0%AF")  # an overlong '/'
    assert "not valid UTF-8" in refusal(b"q=%ED%A0%80")  # a lone surrogate
    assert "not valid UTF-8" in refusal(b"q=\xff")  # a raw byte
    assert "control character" in refusal(b"q=a%00b")
    assert "control character" in refusal(b"q=%C2%85")  # C1 control (NEL)
    assert "a parameter name is not valid UTF-8" in refusal(b"%FF=1")


def test_a_route_keyed_on_some_parameters_reads_those_and_leaves_the_rest():
    assert parse_query_string("w=320&utm_source=x&fmt=webp", VARIANT_PARAMETERS, ignore_unknown=True) == {
        "w": "320",
        "fmt": "webp",
    }
    assert "w is given more than once" in refusal(b"w=1&w=2", VARIANT_PARAMETERS, ignore_unknown=True)


def test_the_variant_parameters_are_the_edges_cache_key():
    defaults = yaml.safe_load((PROJECT_ROOT / "roles/cdn/defaults/main.yml").read_text())
    assert sorted(defaults["cdn_resize_query_keys"]) == sorted(VARIANT_PARAMETERS)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_any_bytes_give_a_dict_or_a_400(raw):
    try:
        parsed = parse_query_string(as_wsgi(raw), ("q", "limit", "cursor"))
    except ApiError as error:
        assert error.status == 400 and error.detail
    else:
        assert set(parsed) <= {"q", "limit", "cursor"}
        assert all(isinstance(value, str) for value in parsed.values())
