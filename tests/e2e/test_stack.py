"""The stack as a viewer and an operator meet it: search and images through the edge, the cache,
the origin header, idempotence, a published change, scaling out and in, and a killed instance
under load. Tests run in file order on one stack (see conftest)."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from PIL import Image

from tests.helpers.aws import StackCensus
from tests.helpers.playbook import PROJECT_ROOT
from tests.helpers.reliability import record

from .conftest import STACK, Stack, SteadyLoad, fetch, run

DEMO_IMAGES = PROJECT_ROOT / "files" / "images"


def search(stack: Stack, query: str) -> dict:
    answer = stack.get(f"/api/search?q={query}")
    assert answer.status == 200, answer.body[:300]
    return answer.json()


def test_the_site_serves_the_moment_site_yml_ends(stack):
    """site.yml waits until every target is healthy and the site answers (playbooks/ready.yml)."""
    statuses = stack.first_statuses
    failed = [status for status in statuses if not 200 <= status < 300]
    record(
        "first-requests-after-up",
        f"{len(failed)} of {len(statuses)} requests right after site.yml were not 2xx",
        "0 non-2xx", not failed, failed=len(failed), total=len(statuses),
    )  # fmt: skip
    assert len(statuses) >= 40
    assert not failed, f"non-2xx right after site.yml: {failed}"
    assert "Wait until every registered target passes its health check" in stack.site.output


def test_the_page_and_the_search_answer_through_the_edge(stack):
    page = stack.get("/")
    assert page.status == 200
    assert b"<html" in page.body.lower()
    assert page.headers["x-cache"].endswith("from cloudfront")
    found = search(stack, "cat")
    assert found["total"] >= 1
    assert any("cat" in item["tags"] or "cat" in item["title"].lower() for item in found["results"])


def test_a_repeated_image_request_is_a_cache_hit(stack):
    image = search(stack, "rocket")["results"][0]
    path = f"/img/{image['id']}?w=256&fmt=webp"
    first = stack.get(path)
    second = stack.get(path)
    assert first.status == second.status == 200
    assert first.headers["content-type"] == "image/webp"
    assert second.headers["x-cache"].startswith("Hit")
    assert second.body == first.body


def test_originals_come_from_the_private_bucket_through_the_edge(stack):
    image = search(stack, "rocket")["results"][0]
    original = stack.get(image["url"])
    assert original.status == 200
    assert original.body == (DEMO_IMAGES / "science" / "rocket-launch.jpg").read_bytes()
    anonymous = fetch(f"{stack.aws.url}/{stack.outputs['bucket']}{image['url']}")
    assert anonymous.status == 403


def test_the_load_balancer_refuses_requests_without_the_origin_header(stack):
    answer = fetch(stack.balancer + "/api/search?q=cat")
    assert answer.status == 403
    assert answer.json()["error"] == "forbidden"


def test_a_second_run_changes_nothing(stack):
    again = run("site.yml")
    assert again.returncode == 0, again.tail(60)
    assert again.changed == 0, again.changed_tasks()


def test_a_published_change_reaches_viewers(stack, tmp_path):
    folder = tmp_path / "images"
    shutil.copytree(DEMO_IMAGES, folder)
    image = search(stack, "rocket")["results"][0]
    path = f"/img/{image['id']}?w=256&fmt=png"
    before = stack.get(path)
    assert stack.get(path).headers["x-cache"].startswith("Hit")
    picture = folder / "science" / "rocket-launch.jpg"
    with Image.open(picture) as original:
        original.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(picture, quality=90)
    published = run("playbooks/catalog.yml", catalog_source_dir=str(folder))
    assert published.returncode == 0, published.tail(60)
    after = stack.wait_until(
        lambda: (answer := stack.get(path)).body != before.body and answer, timeout=60, what="the new bytes at the edge"
    )
    assert after.status == 200
    assert after.headers["content-type"] == "image/png"


def test_scaling_out_boots_a_configured_instance_from_user_data(stack):
    autoscaling = stack.aws.client("autoscaling")
    # Raised through the minimum, as an operator would under target tracking (the local scaler,
    # like AWS's, would otherwise take an idle third instance away again).
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=stack.group_name, MinSize=3, DesiredCapacity=3)
    started = time.monotonic()
    stack.wait_until(lambda: len(stack.containers()) == 3, timeout=60, what="a third container")
    states = stack.wait_until(
        lambda: (states := stack.balancer_states()) and list(states.values()).count("UP") == 3 and states,
        timeout=600,
        interval=5,
        what="three healthy targets",
    )
    boot_seconds = time.monotonic() - started
    print(f"scale-out: third instance serving after {boot_seconds:.0f}s")
    assert len(states) == 3
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=stack.group_name, MinSize=2, DesiredCapacity=2)
    stack.wait_until(lambda: len(stack.containers()) == 2, timeout=60, what="back to two containers")
    stack.wait_until(lambda: len(stack.balancer_states()) == 2, timeout=30, what="two targets")


def test_a_killed_instance_under_load_loses_no_request_after_the_health_check_window(stack):
    victim = sorted(stack.containers())[0]
    window = 5 * 3 + 5  # interval x unhealthy threshold, plus one check's timeout
    with SteadyLoad(stack) as load:
        time.sleep(5)
        killed_at = time.monotonic()
        subprocess.run([str(PROJECT_ROOT / "scripts" / "podman"), "kill", victim], check=True, capture_output=True)
        time.sleep(window + 15)
        replaced = stack.wait_until(
            lambda: victim not in stack.containers() and len(stack.containers()) == 2,
            timeout=60,
            what="the dead instance's replacement container",
        )
        assert replaced
    during = load.failures(killed_at, killed_at + window)
    after = load.failures(killed_at + window)
    print(f"killed {victim}: {load.count()} requests, {during} failed within the {window}s window, {after} after it")
    assert load.count(killed_at + window) > 50
    assert after == 0
    stack.wait_until(
        lambda: list(stack.balancer_states().values()).count("UP") == 2,
        timeout=600,
        interval=5,
        what="the replacement serving",
    )
    replacement = time.monotonic() - killed_at
    print(f"replacement serving {replacement:.0f}s after the kill")
    record(
        "instance-killed",
        f"{after} failed after the {window}s health-check window ({during} within it, {load.count()} in all); "
        f"replacement serving after {replacement:.0f}s",
        "0 failed after the window",
        after == 0,
        failed_after=after, failed_within=during, total=load.count(), replacement_seconds=round(replacement),
    )  # fmt: skip


def test_teardown_leaves_nothing(stack):
    down = run("playbooks/teardown.yml")
    assert down.returncode == 0, down.tail(60)
    left = StackCensus(stack.aws, STACK).everything()
    assert not any(left.values()), left
    assert stack.containers() == {}
    with pytest.raises(OSError):
        fetch(stack.edge + "/", timeout=3)
