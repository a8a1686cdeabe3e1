"""An image's summary is the same in every answer that shows it: a search answer splices the
texts of its cards (cards.py), the metadata route builds it from the entry, and both hold the
URLs the settings make (CDN base, widths, signatures)."""

from __future__ import annotations

import io
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from image_api.cards import CARD_FIELDS, _partial_card, card, split_card
from image_api.catalog_schema import content_key
from image_api.config import ConfigError, load_settings
from image_api.signing import signature
from image_api.wsgi import create_application

ENVIRONMENT = {"IMAGE_API_CONFIG": "/nonexistent", "IMAGE_API_LOG_REQUESTS": "false"}
SETTINGS = load_settings({**ENVIRONMENT, "IMAGE_API_CATALOG_FILE": "x"})


def answer(app, path: str) -> tuple[str, dict]:
    route, _, query = path.partition("?")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query, "SERVER_NAME": "test",
               "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
               "SERVER_PROTOCOL": "HTTP/1.1"}  # fmt: skip
    statuses: list[str] = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return statuses[0], json.loads(body)


@pytest.fixture(scope="module")
def catalog_file(demo_index, tmp_path_factory):
    _, entries = demo_index
    path = tmp_path_factory.mktemp("catalog") / "catalog.json"
    path.write_text(json.dumps(entries))
    return path


@pytest.mark.parametrize("signing_key", ["", "k" * 32])
def test_search_results_are_the_images_own_summaries(catalog_file, tmp_path, signing_key):
    app = create_application({
        **ENVIRONMENT, "IMAGE_API_CATALOG_FILE": str(catalog_file), "IMAGE_API_CACHE_DIR": str(tmp_path),
        "IMAGE_API_CDN_BASE_URL": "https://cdn.example.org", "IMAGE_API_SIGNING_KEY": signing_key,
    })  # fmt: skip
    deadline = time.monotonic() + 30
    while answer(app, "/readyz")[0][:3] != "200" and time.monotonic() < deadline:
        time.sleep(0.05)
    status, found = answer(app, "/api/search?limit=100&facets=tags")  # every image
    assert status[:3] == "200" and found["count"] == found["total"] > 50 and found["facets"]["tags"]
    assert answer(app, "/api/search?q=water&facets=tags")[1]["results"][0] in found["results"]
    for result in found["results"]:
        metadata = answer(app, f"/api/images/{result['id']}")[1]
        assert {name: metadata[name] for name in result} == result
        key = content_key(metadata["sha256"], result["id"], result["format"])
        assert result["url"] == f"https://cdn.example.org/{key}"
        widths = [int(part.rsplit(" ", 1)[1].removesuffix("w")) for part in result["srcset"].split(", ")]
        widest = min(result["width"], 4 * SETTINGS.thumbnail_width)
        assert widths == [w for w in SETTINGS.allowed_widths if w <= widest] or widths == [SETTINGS.allowed_widths[0]]
        for url in [result["thumbnail_url"], *(part.split()[0] for part in result["srcset"].split(", "))]:
            assert url.startswith(f"https://cdn.example.org/img/{result['id']}?w=")
            query = url.split("?", 1)[1]
            if signing_key:
                canonical, _, signed = query.rpartition("&s=")
                assert signed == signature(signing_key, result["id"], canonical)
            else:
                assert "&s=" not in query


@pytest.mark.parametrize(
    "base", ['https://cdn.example.org/"x', "https://cdn.example.org/a b", "https://c\\d", "http://\x01"]
)
def test_a_cdn_base_url_that_would_need_escaping_is_refused(base):
    with pytest.raises(ConfigError, match="IMAGE_API_CDN_BASE_URL"):
        load_settings({**ENVIRONMENT, "IMAGE_API_CATALOG_FILE": "x", "IMAGE_API_CDN_BASE_URL": base})


@settings(max_examples=300, deadline=None)
@given(
    title=st.text(),
    tags=st.lists(st.text(max_size=12), max_size=4),
    width=st.integers(1, 20000),
    height=st.integers(1, 20000),
    colours=st.lists(st.sampled_from(["blue", "red", 'gr"ey', "ü"]), max_size=3),
)
def test_a_whole_entrys_card_is_its_summary_fields_as_json(title, tags, width, height, colours):
    entry = {"image_id": "a-b", "title": title, "tags": tags, "width": width, "height": height, "format": "png",
             "orientation": "square", "colour": "#112233", "colours": colours, "placeholder": "AbC=",
             "key": "images/0123456789abcdef/a-b.png"}  # fmt: skip
    members, key = split_card(card(entry))
    assert key == entry["key"] and card(entry) == _partial_card(entry)
    assert json.loads(f"{{{members}}}") == {
        **{name: entry[name] for name in CARD_FIELDS},
        "aspect_ratio": round(width / height, 4),
    }
