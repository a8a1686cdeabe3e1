from __future__ import annotations

import os

import boto3
import pytest
from image_api.errors import ApiError
from image_api.store import OriginalStore
from moto import mock_aws


@pytest.fixture
def s3():
    os.environ.update({"AWS_ACCESS_KEY_ID": "unit", "AWS_SECRET_ACCESS_KEY": "unit", "AWS_DEFAULT_REGION": "eu-west-1"})
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket="originals", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client


def test_originals_are_cached_and_the_cache_stays_within_its_bound(s3, tmp_path):
    for n in range(5):
        s3.put_object(Bucket="originals", Key=f"images/{n}", Body=bytes([n]) * 400)
    store = OriginalStore(s3, "originals", str(tmp_path), cache_bytes=1000)
    for n in range(5):
        assert store.get(f"images/{n}") == bytes([n]) * 400
        os.utime(store._path(f"images/{n}"), (n + 1, n + 1))  # distinct access times
    cached = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert sum(p.stat().st_size for p in cached) <= 1000
    s3.delete_object(Bucket="originals", Key="images/4")
    assert store.get("images/4") == bytes([4]) * 400  # the newest copy was kept and is served locally


def test_eviction_leaves_folders_in_the_cache_alone(s3, tmp_path):
    (tmp_path / "catalog").mkdir()  # the API's shared catalog files live here (wsgi.CATALOG_FOLDER)
    (tmp_path / "catalog" / "v1.catalog").write_bytes(b"x" * 5000)
    s3.put_object(Bucket="originals", Key="images/a", Body=b"a" * 800)
    store = OriginalStore(s3, "originals", str(tmp_path), cache_bytes=1000)
    assert store.get("images/a") == b"a" * 800
    assert (tmp_path / "catalog" / "v1.catalog").exists() and store._path("images/a").exists()


def test_a_missing_original_is_404_and_an_unreachable_store_503(s3, tmp_path):
    store = OriginalStore(s3, "originals", str(tmp_path), cache_bytes=1000)
    with pytest.raises(ApiError) as missing:
        store.get("images/none")
    assert missing.value.status == 404
    unreachable = OriginalStore(s3, "no-such-bucket", str(tmp_path / "other"), cache_bytes=1000)
    with pytest.raises(ApiError) as failed:
        unreachable.get("images/x")
    assert failed.value.status in (404, 503)
    assert not unreachable.reachable()


def test_a_derived_copy_is_made_once_and_kept_beside_the_original(s3, tmp_path):
    s3.put_object(Bucket="originals", Key="images/big", Body=b"original bytes")
    store = OriginalStore(s3, "originals", str(tmp_path), cache_bytes=10_000)
    made = []

    def make(original: bytes) -> bytes:
        made.append(original)
        return original.upper()

    assert store.derived("images/big", "upper-v1", make) == b"ORIGINAL BYTES"
    assert store.derived("images/big", "upper-v1", make) == b"ORIGINAL BYTES"
    assert made == [b"original bytes"]  # made once; the second answer came from the disk cache
    assert store.derived("images/big", "upper-v2", make) == b"ORIGINAL BYTES" and len(made) == 2


def test_an_original_is_opened_from_the_cache_and_stays_readable_when_evicted(s3, tmp_path):
    body = os.urandom(3 * (1 << 20) + 5)  # more than one fetch chunk
    s3.put_object(Bucket="originals", Key="images/large", Body=body)
    s3.put_object(Bucket="originals", Key="images/other", Body=b"x" * 100)
    store = OriginalStore(s3, "originals", str(tmp_path), cache_bytes=len(body))
    with store.open("images/large") as fetched:
        assert fetched.read() == body
    assert store._path("images/large").read_bytes() == body  # kept whole in the cache
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".incoming-")]
    with store.open("images/large") as cached:
        store.get("images/other")  # over the bound: the large one, least recently used, goes
        assert not store._path("images/large").exists()
        cached.seek(0)
        assert cached.read() == body  # still readable through the open file


def test_a_fetch_that_fails_midway_leaves_no_partial_file(s3, tmp_path):
    s3.put_object(Bucket="originals", Key="images/cut", Body=b"y" * 5000)
    store = OriginalStore(s3, "originals", str(tmp_path), cache_bytes=100_000)
    real_get = s3.get_object

    def cut_off(**request):
        answer = real_get(**request)

        def chunks(size):
            yield answer["Body"].read(100)
            raise ConnectionResetError("the connection dropped")

        answer["Body"].iter_chunks = chunks
        return answer

    s3.get_object = cut_off
    with pytest.raises(ApiError) as failed:
        store.open("images/cut")
    assert failed.value.status == 503
    assert list(tmp_path.iterdir()) == []  # neither a cached file nor a temporary one
    s3.get_object = real_get
    assert store.get("images/cut") == b"y" * 5000
