"""A catalog version saved as one file and mapped (catalog_file.py) answers exactly as the indexes
built in memory, and an instance's workers build each version once between them."""

from __future__ import annotations

import threading

import pytest
import yaml
from image_api import catalog_file
from image_api.cards import card
from image_api.catalog import CatalogHolder, in_id_order, index_catalog
from image_api.similar import SimilarIndex

from tests.helpers.playbook import PROJECT_ROOT

QUERIES = list(yaml.safe_load((PROJECT_ROOT / "tests/data/relevance.yml").read_text())["queries"])
QUERIES += ["", "forset", "wtaer lake", "zzzz", "re"]
FILTERS = [{}, {"orientation": "portrait"}, {"colour": "blue"}, {"format": "png", "min_width": 800}, {"tags": ["nope"]}]


@pytest.fixture(scope="module")
def built(demo_index):
    _, entries = demo_index
    return index_catalog(in_id_order(entries))


def test_the_mapped_file_answers_as_the_indexes_in_memory(built, tmp_path):
    catalog_file.save(tmp_path / "v1.catalog", "v1", built, malformed=2)
    version, mapped, malformed = catalog_file.load(tmp_path / "v1.catalog")
    assert (version, malformed) == ("v1", 2)
    columns, index, similar = built
    for query in QUERIES:
        for filters in FILTERS:
            expected = index.search(query, filters, limit=10, facets=("tags", "colour", "format", "orientation"))
            assert mapped[1].search(query, filters, limit=10, facets=("tags", "colour", "format", "orientation")) == (
                expected
            ), (query, filters)
    for ordinal, image_id in list(enumerate(columns.records))[::7]:
        assert mapped[0].records[image_id] == columns.records[image_id]
        assert bytes(mapped[0].records.cards.of(ordinal)) == card(columns.records[image_id])
        assert mapped[2].similar(image_id, 8) == similar.similar(image_id, 8)
    assert mapped[0].records.get("no-such-image") is None and len(mapped[0].records) == len(columns.records)
    # The similar-image index's entries by tag are the search index's tags filter, kept once.
    assert similar.by_tag is index.by_value["tags"] and mapped[2].by_tag is mapped[1].by_value["tags"]


def test_an_empty_catalog_saves_and_maps(tmp_path):
    empty = index_catalog(iter(()))
    catalog_file.save(tmp_path / "empty.catalog", "v0", empty)
    _, (columns, index, similar), _ = catalog_file.load(tmp_path / "empty.catalog")
    assert len(columns) == 0 and index.search("lake").ids == [] and index.search("").total == 0
    assert isinstance(similar, SimilarIndex)


class CountingSource:
    """The demo entries as a source whose loads are counted (from several threads at once)."""

    def __init__(self, entries: list[dict], version: str) -> None:
        self.entries, self.version_text, self.loads = entries, version, 0
        self.lock = threading.Lock()

    def version(self) -> str:
        return self.version_text

    def load(self):
        with self.lock:
            self.loads += 1
        return self.version_text, in_id_order(self.entries), 0


def test_workers_build_each_version_once_and_older_files_go(demo_index, tmp_path):
    _, entries = demo_index
    source = CountingSource(entries, "v1")
    holders = [CatalogHolder(source, 60, shared_dir=tmp_path) for _ in range(4)]
    threads = [threading.Thread(target=holder.load) for holder in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert source.loads == 1  # one built it; the others waited for its file and mapped it
    assert {holder.current.version for holder in holders} == {"v1"}
    assert holders[3].current.index.search("lake").ids == holders[0].current.index.search("lake").ids != []
    source.version_text = "v2"
    assert holders[0].refresh_if_changed() and source.loads == 2
    assert [path.name for path in tmp_path.glob("*.catalog")] == [catalog_file.path_for(tmp_path, "v2").name]
    # A worker still on v1 keeps answering from its mapping after the file is gone.
    assert holders[1].current.version == "v1" and holders[1].current.index.search("lake").ids
    assert holders[1].refresh_if_changed() and source.loads == 2 and holders[1].current.version == "v2"


def test_a_layout_has_its_own_file(tmp_path, monkeypatch):
    current = catalog_file.path_for(tmp_path, "v1")
    monkeypatch.setattr(catalog_file, "LAYOUT", catalog_file.LAYOUT - 1)
    assert catalog_file.path_for(tmp_path, "v1") != current  # another layout, another file
