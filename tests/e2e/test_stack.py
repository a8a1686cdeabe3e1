"""The stack as a viewer and an operator meet it: search and images through the edge, the cache,
the origin header, idempotence, a published change, scaling out and in, and a killed instance
under load. Tests run in file order on one stack (see conftest)."""

from __future__ import annotations

import http.client
import io
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers.aws import StackCensus
from tests.helpers.layers import wait_for_a_quiet_machine
from tests.helpers.playbook import PROJECT_ROOT
from tests.helpers.reliability import record

from .conftest import PODMAN, STACK, CapacityWatch, Stack, SteadyLoad, fetch, run

STATE = PROJECT_ROOT / ".state" / STACK

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


def test_fmt_auto_is_one_cached_variant_per_format_the_viewers_decode(stack):
    """Through the edge's CloudFront Function (njs here): AVIF, WebP and neither each get their
    format from the instances, and a repeat, even in another browser's spelling, is a hit."""
    path = "/img/photos-by-the-water?w=256&fmt=auto"
    accepts = {"image/avif": "image/avif,image/webp,image/apng,*/*;q=0.8", "image/webp": "image/webp,*/*;q=0.8",
               "image/jpeg": "*/*"}  # fmt: skip
    for content_type, accept in accepts.items():
        first = stack.get(path, headers={"Accept": accept})
        assert first.status == 200 and first.headers["content-type"] == content_type, accept
        assert Image.open(io.BytesIO(first.body)).format == content_type.split("/")[1].upper()
    firefox = stack.get(path, headers={"Accept": "image/avif,image/webp,*/*"})
    assert firefox.headers["content-type"] == "image/avif" and firefox.headers["x-cache"].startswith("Hit")
    assert stack.get(path, headers={"Accept": "text/html,*/*"}).headers["x-cache"].startswith("Hit")
    # PNG and WebP originals are decoded by libvips on the instances (pyvips-binary from the wheelhouse).
    for still in ("science-chelsea-the-cat", "wallpapers-wood-dark"):
        answer = stack.get(f"/img/{still}?w=320&fmt=auto", headers={"Accept": "image/webp"})
        assert answer.status == 200 and Image.open(io.BytesIO(answer.body)).size[0] == 320, (still, answer.body[:200])


def test_avif_and_animation_come_from_the_instances_and_other_spellings_are_a_cached_redirect(stack):
    """The instances' Pillow (from the wheelhouse) encodes AVIF; a non-canonical variant URL is a
    308 to the canonical one that the edge caches (it carries Cache-Control, as CloudFront needs)."""
    image_id = search(stack, "rocket")["results"][0]["id"]
    avif = stack.get(f"/img/{image_id}?w=320&fmt=avif")
    assert avif.status == 200 and avif.headers["content-type"] == "image/avif"
    assert Image.open(io.BytesIO(avif.body)).format == "AVIF"
    answers = []
    for _ in range(2):
        connection = http.client.HTTPConnection(stack.edge.removeprefix("http://"), timeout=10)
        connection.request("GET", f"/img/{image_id}?w=300&fmt=avif")
        answer = connection.getresponse()
        answer.read()
        connection.close()
        answers.append(answer)
    assert [answer.status for answer in answers] == [308, 308]
    assert answers[1].getheader("Location") == f"/img/{image_id}?w=320&fmt=avif"
    assert answers[1].getheader("X-Cache").startswith("Hit")
    # The demo's animated GIF stays animated as WebP (every frame resized on the instance).
    animated = stack.get("/img/science-rocket-zoom-animated?w=320&fmt=webp")
    assert animated.status == 200 and Image.open(io.BytesIO(animated.body)).n_frames == 8


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


def test_a_killed_instance_under_load_loses_no_request_after_the_health_check_window(stack):
    """The group replaces the dead instance; its replacement boots from the launch template's user
    data, configures itself from the current release and serves (the path of every scale-out too:
    the load test below checks that the capacity the scaler asks for is launched)."""
    victim = sorted(stack.containers())[0]
    window = 5 * 3 + 5  # interval x unhealthy threshold, plus one check's timeout
    with SteadyLoad(stack) as load:
        time.sleep(5)
        killed_at = time.monotonic()
        subprocess.run([PODMAN, "kill", victim], check=True, capture_output=True)
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


def test_an_unhealthy_instance_is_replaced_and_loses_no_request_after_the_health_check_window(stack):
    """The group's ELB health check (local_aws/dataplane/health_replacement.py): an instance whose
    app hangs (its processes stopped, not killed: the container and systemd see nothing wrong) is
    terminated once its target is unhealthy past the grace period, and its replacement serves."""
    stack.wait_until(lambda: list(stack.balancer_states().values()).count("UP") == 2, timeout=600, interval=5,
                     what="two serving instances")  # fmt: skip
    # The one in service longest: its grace period (180 s) is over, unlike a fresh replacement's.
    since = json.loads((STATE / "dataplane" / "in-service.json").read_text())
    victim = min((instance for instance in since if instance in stack.containers()), key=since.get)
    log = STATE / "dataplane" / "replacements.jsonl"
    logged = len(log.read_text().splitlines()) if log.is_file() else 0
    # Interval x unhealthy threshold, one more interval (where the first check falls) and the
    # check's timeout; plus the viewer's 10 s timeout for a request sent to the hung app before.
    window = 5 * 3 + 5 + 2 + 10
    with SteadyLoad(stack) as load:
        time.sleep(5)
        hung_at = time.monotonic()
        subprocess.run([PODMAN, "exec", victim, "pkill", "-STOP", "-f", "gunicorn"], check=True, capture_output=True)
        stack.wait_until(lambda: victim not in stack.containers(), timeout=window + 120, what="the hung instance gone")
        replaced = time.monotonic() - hung_at
        stack.wait_until(
            lambda: len(stack.containers()) == 2 and list(stack.balancer_states().values()).count("UP") == 2,
            timeout=600, interval=5, what="the replacement serving",
        )  # fmt: skip
        serving = time.monotonic() - hung_at
    during, after = load.failures(hung_at, hung_at + window), load.failures(hung_at + window)
    activities = [json.loads(line) for line in log.read_text().splitlines()[logged:]]
    print(f"hung {victim}: replaced after {replaced:.0f}s, replacement serving after {serving:.0f}s; "
          f"{during} failed within the {window}s window, {after} after it, {load.count()} in all")  # fmt: skip
    record(
        "instance-unhealthy",
        f"{after} failed after the {window}s health-check window ({during} within it, {load.count()} in all); "
        f"replaced {replaced:.0f}s after its app hung, replacement serving after {serving:.0f}s",
        "0 failed after the window",
        after == 0,
        failed_after=after, failed_within=during, total=load.count(), replaced_seconds=round(replaced),
        serving_seconds=round(serving),
    )  # fmt: skip
    assert [entry["instance"] for entry in activities] == [victim], activities
    assert activities[0]["cause"].startswith("ELB health check"), activities
    assert load.count(hung_at + window) > 50
    assert after == 0


# Last before the teardown: it waits until the other test layers are done.
def test_load_scales_the_group_out_and_back_in(stack):
    """playbooks/loadtest.yml: new searches through the edge push the instances' CPU over the
    policy's 50 % target; the local scaler adds instances (at most max_size), and takes them away
    once the load is over and the cooldown has passed (never below min_size)."""
    autoscaling = stack.aws.client("autoscaling")
    # CPU-bound: the load must reach the instances' CPU target, which a machine busy with another
    # test layer (scripts/test_layers.py runs them side by side) does not allow.
    waited = wait_for_a_quiet_machine("e2e", timeout=1800)
    print(f"waited {waited:.0f}s for the other test layers to finish")

    def back_to_two() -> bool:
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[stack.group_name])
        return group["AutoScalingGroups"][0]["DesiredCapacity"] == 2 and len(stack.containers()) == 2

    def quiet() -> bool:
        """The last evaluations saw two idle instances (a burst from an earlier test, such as an
        app restarting, must not be taken for the load's scale-out)."""
        lines = Path(stack.outputs["scaler_timeline"]).read_text().splitlines()[-2:]
        recent = [json.loads(line) for line in lines]
        return len(recent) == 2 and all(e["desired"] == 2 and (e["average_cpu"] or 0) < 25 for e in recent)

    stack.wait_until(lambda: back_to_two() and quiet(), timeout=480, interval=5,
                     what="the group idle at its minimum before the load")  # fmt: skip
    run_dir = STATE / "loadtest"
    before = set(run_dir.iterdir()) if run_dir.is_dir() else set()
    with CapacityWatch(stack) as capacity:
        load = run("playbooks/loadtest.yml", load_test_duration=150, load_test_observe=180, load_test_connections=24)
    assert load.returncode == 0, load.tail(40)
    (new_run,) = set(run_dir.iterdir()) - before
    report = json.loads((new_run / "report.json").read_text())
    scaling, figures = report["scaling"], report["load"]
    print(f"load test: {json.dumps(figures)}\nscaling: {json.dumps(scaling)}")
    latency = figures["latency_ms"]
    summary = (
        f"{figures['requests_per_second']}/s, p50 {latency['p50']} ms, p99 {latency['p99']} ms, {figures['errors']} "
        f"errors, hit ratio {figures['cache_hit_ratio']}; capacity {scaling.get('desired_start')} -> "
        f"{scaling.get('desired_peak')} -> {scaling.get('desired_end')}, CPU peak {scaling.get('average_cpu_peak')} %, "
        f"at most {capacity.peak_containers} instances running and {capacity.peak_serving} serving"
    )
    record(
        "load-test",
        summary,
        "scale out under load, back in after, within 2-4",
        scaling.get("scaled_out", False) and scaling.get("scaled_in_after_load", False),
        **figures["latency_ms"], requests=figures["requests"], errors=figures["errors"], **scaling,
        peak_containers=capacity.peak_containers, peak_serving=capacity.peak_serving,
    )  # fmt: skip
    assert (new_run / "loadtest.svg").is_file()
    assert figures["errors"] <= figures["requests"] * 0.01, "under 1 % of the load failed"
    assert scaling["scaled_out"], f"no scale-out: {scaling}"
    assert 2 <= scaling["desired_peak"] <= 4
    # What the scaler asked for was launched: an instance container per unit of peak capacity.
    assert capacity.peak_containers >= scaling["desired_peak"], capacity
    assert scaling["scaled_in_after_load"], f"no scale-in after the load: {scaling}"

    stack.wait_until(back_to_two, timeout=420, interval=5, what="the group back at its minimum")
    stack.wait_until(lambda: list(stack.balancer_states().values()).count("UP") == 2, timeout=300, interval=5,
                     what="two serving targets")  # fmt: skip


def test_teardown_leaves_nothing(stack):
    down = run("playbooks/teardown.yml")
    assert down.returncode == 0, down.tail(60)
    left = StackCensus(stack.aws, STACK).everything()
    assert not any(left.values()), left
    assert stack.containers() == {}
    with pytest.raises(OSError):
        fetch(stack.edge + "/", timeout=3)
