"""The instance-wide large-render slot (image_api/render_slot.py): one holder at a time across
processes, a bounded wait that ends in 503 Busy, and a slot that a crashed holder cannot keep."""

from __future__ import annotations

import multiprocessing
import os
import signal

import pytest
from image_api.render_slot import Busy, estimated_bytes, large_render_slot


def slot_taken(lock_file, wait_seconds: float) -> bool:
    """Whether this process got the slot within the wait (Busy propagates when it did not)."""
    with large_render_slot(lock_file, wait_seconds):
        return True


def hold_until_told(lock_file, holding, release) -> None:
    with large_render_slot(lock_file, 5):
        holding.set()
        release.wait(30)


@pytest.fixture
def other_process():
    context = multiprocessing.get_context("spawn")
    started = []

    def start(lock_file):
        holding, release = context.Event(), context.Event()
        process = context.Process(target=hold_until_told, args=(lock_file, holding, release))
        process.start()
        assert holding.wait(30), "the other process never got the slot"
        started.append(process)
        return process, release

    yield start
    for process in started:
        process.kill()
        process.join(10)


def test_a_second_holder_waits_then_is_told_busy(tmp_path, other_process):
    lock_file = tmp_path / "large-render.lock"
    _process, release = other_process(lock_file)
    with pytest.raises(Busy) as busy:
        slot_taken(lock_file, 0.2)
    assert busy.value.status == 503 and busy.value.retry_after == 1 and busy.value.error == "busy"
    release.set()
    assert slot_taken(lock_file, 10)  # free once the other one let go


def test_a_holder_that_dies_frees_the_slot(tmp_path, other_process):
    lock_file = tmp_path / "large-render.lock"
    process, _release = other_process(lock_file)
    os.kill(process.pid, signal.SIGKILL)  # as the kernel's OOM killer would
    process.join(10)
    assert slot_taken(lock_file, 5)


def test_only_sources_that_decode_whole_are_large():
    assert estimated_bytes("jpeg", 8000, 6000) == 0  # decoded at the target's DCT scale
    assert estimated_bytes("png", 7360, 4912) == 7360 * 4912 * 8
    assert estimated_bytes("webp", 100, 100) == 80_000
