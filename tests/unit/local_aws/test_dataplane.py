"""The local data plane's renderers and its cache purge, on the configs the stack really creates."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from local_aws.dataplane import balancer, edge
from local_aws.dataplane.stack import HealthCheck, Instance, OriginRule, Stack

DISTRIBUTION = {
    "DefaultRootObject": "index.html",
    "Origins": {
        "Items": [
            {
                "Id": "load-balancer",
                "DomainName": "web-alb-1.eu-west-1.elb.amazonaws.com",
                "OriginPath": "",
                "CustomHeaders": {"Items": [{"HeaderName": "X-Origin-Verify", "HeaderValue": "s3cr3tValue"}]},
                "CustomOriginConfig": {"HTTPPort": 80, "OriginProtocolPolicy": "http-only", "OriginReadTimeout": 30},
            },
            {
                "Id": "image-bucket",
                "DomainName": "web-images-123.s3.eu-west-1.amazonaws.com",
                "OriginPath": "",
                "S3OriginConfig": {"OriginAccessIdentity": ""},
            },
        ]
    },
    "DefaultCacheBehavior": {
        "TargetOriginId": "load-balancer",
        "ForwardedValues": {"QueryString": False},
        "MinTTL": 0,
        "DefaultTTL": 300,
        "MaxTTL": 3600,
        "AllowedMethods": {"Items": ["GET", "HEAD"]},
    },
    "CacheBehaviors": {
        "Items": [
            {
                "PathPattern": "/images/*",
                "TargetOriginId": "image-bucket",
                "ForwardedValues": {"QueryString": False},
                "MinTTL": 31536000,
                "DefaultTTL": 31536000,
                "MaxTTL": 31536000,
            },
            {
                "PathPattern": "/img/*",
                "TargetOriginId": "load-balancer",
                "ForwardedValues": {"QueryString": True, "QueryStringCacheKeys": {"Items": ["w", "fmt"]}},
                "MinTTL": 0,
                "DefaultTTL": 86400,
                "MaxTTL": 31536000,
            },
            {
                "PathPattern": "/api/*",
                "TargetOriginId": "load-balancer",
                "ForwardedValues": {"QueryString": True},
                "MinTTL": 0,
                "DefaultTTL": 30,
                "MaxTTL": 0,
            },
        ]
    },
}


def settings(tmp_path: Path) -> edge.EdgeSettings:
    return edge.EdgeSettings("127.0.0.1", 18380, "127.0.0.1:18381", "127.0.0.1:18382", tmp_path)


RULE = OriginRule("X-Origin-Verify", "abc123")


def stack_with(targets: tuple[str, ...]) -> Stack:
    instances = (
        Instance("i-1", "10.42.10.4", "running", "InService"),
        Instance("i-2", "10.42.10.5", "running", "InService"),
    )
    return Stack(
        name="unit",
        group_name="unit-web",
        instances=instances,
        target_group_arn="arn:tg",
        targets=targets,
        health_check=HealthCheck(path="/healthz", interval=5, timeout=2, healthy_threshold=2, unhealthy_threshold=3),
        origin_rule=RULE,
    )


def test_an_instance_listens_on_the_loopback_twin_of_its_private_address():
    assert Instance("i-1", "10.20.10.4", "running", "InService").listen_address == "127.20.10.4"


def test_path_patterns_become_anchored_regexes():
    assert edge.location_regex("/images/*") == "^/images/.*$"
    assert edge.location_regex("img/?.png") == "^/img/.\\.png$"


def test_cache_keys_follow_the_forwarded_query_strings():
    assert edge.cache_key({"QueryString": False}) == "$edge_path"
    assert edge.cache_key({"QueryString": True}) == "$edge_path$is_args$args"
    keys = {"QueryString": True, "QueryStringCacheKeys": {"Items": ["w", "fmt"]}}
    assert edge.cache_key(keys) == "$edge_path?fmt=$arg_fmt&w=$arg_w"
    # A listed header is keyed too: as the viewer sent it, or as the viewer-request function left it.
    listed = {**keys, "Headers": {"Items": ["Accept"]}}
    assert edge.cache_key(listed) == "$edge_path?fmt=$arg_fmt&w=$arg_w#accept=$http_accept"
    function = "arn:aws:cloudfront::123456789012:function/s-image-format"
    assert edge.cache_key(listed, function) == "$edge_path?fmt=$arg_fmt&w=$arg_w#accept=$edge_s_image_format_accept"


def test_ttls_follow_the_behavior():
    assert edge.ttl_lines({"MinTTL": 0, "DefaultTTL": 30, "MaxTTL": 0}) == ["proxy_cache off;"]
    fixed = edge.ttl_lines({"MinTTL": 60, "DefaultTTL": 60, "MaxTTL": 60})
    assert fixed[0] == "proxy_ignore_headers Cache-Control Expires Vary;"
    assert edge.ttl_lines({"MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 600})[0] == "proxy_ignore_headers Vary;"
    assert "proxy_cache_valid 200 203 204 206 300 301 302 410 60s;" in fixed


def test_the_edge_config_routes_behaviors_in_order_with_the_secret_header(tmp_path):
    text = edge.render(DISTRIBUTION, settings(tmp_path))
    images, img, api, default = (text.index(marker) for marker in ("^/images/", "^/img/", "^/api/", "location / {"))
    assert images < img < api < default
    assert "proxy_pass http://origin_image_bucket/web-images-123$edge_path;" in text
    assert 'proxy_set_header X-Origin-Verify "s3cr3tValue";' in text
    assert "listen 127.0.0.1:18380" in text
    assert '"/" "/index.html"' in text


# make test installs nginx and haproxy (TEST_SYSTEM_PACKAGES), so CI always runs these two; the skip
# only spares `pytest -m unit` on a machine that never ran make install.
@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is installed by make install (TARGET=local)")
def test_nginx_accepts_the_rendered_edge_config(tmp_path):
    config = tmp_path / "nginx.conf"
    config.write_text(edge.render(DISTRIBUTION, settings(tmp_path)))
    (tmp_path / "tmp").mkdir()
    checked = edge.nginx(settings(tmp_path), "-t", "-c", str(config))
    assert checked.returncode == 0, checked.stderr


def write_cache_file(folder: Path, name: str, key: str) -> Path:
    """A file in NGINX's cache format: a binary header, then the key line, then the response."""
    path = folder / name[-1] / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x05\x00\x00\x00binary-header" + f"\nKEY: {key}\n".encode() + b"HTTP/1.1 200 OK\r\n\r\nbody")
    return path


def test_an_invalidation_purges_matching_keys_only(tmp_path):
    search = write_cache_file(tmp_path, "a1", "/api/search?q=cat")
    image = write_cache_file(tmp_path, "b2", "/img/cat?fmt=auto&w=256#accept=image/avif")
    other = write_cache_file(tmp_path, "c3", "/img/dog?fmt=webp&w=256")
    page = write_cache_file(tmp_path, "d4", "/")
    (tmp_path / "not-a-cache-file").write_text("hello")
    assert edge.purge(tmp_path, ["/api/search*", "/img/cat*"]) == 2
    assert not search.exists() and not image.exists()
    assert other.exists() and page.exists()
    assert edge.purge(tmp_path, ["/"]) == 1


def test_the_balancer_requires_the_origin_header_and_checks_health(tmp_path):
    text = balancer.render(
        stack_with(("i-1", "i-2", "i-gone")), balancer.BalancerSettings("127.0.0.1", 18381, tmp_path)
    )
    assert "unless { req.hdr(X-Origin-Verify) -m str abc123 }" in text
    assert "http-check send meth GET uri /healthz" in text
    assert "default-server check inter 5s fall 3 rise 2" in text
    assert "server i-1 127.42.10.4:80" in text and "server i-2 127.42.10.5:80" in text
    assert "i-gone" not in text  # registered but not running: moto keeps terminated targets


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is installed by make install (TARGET=local)")
def test_haproxy_accepts_the_rendered_config(tmp_path):
    for targets in (("i-1", "i-2"), ()):
        config = tmp_path / "haproxy.cfg"
        config.write_text(balancer.render(stack_with(targets), balancer.BalancerSettings("127.0.0.1", 18381, tmp_path)))
        checked = subprocess.run(["haproxy", "-c", "-q", "-f", str(config)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_an_origin_header_value_the_balancer_cannot_match_is_refused():
    with pytest.raises(ValueError, match="X-Origin-Verify"):
        OriginRule("X-Origin-Verify", 'bad value"}')


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        (None, "initial"),  # not in HAProxy's config yet
        ({"status": "UP", "check_status": "INI"}, "initial"),  # HAProxy counts a new server up unchecked
        ({"status": "UP", "check_status": "* INI"}, "initial"),
        ({"status": "UP", "check_status": "L7OK"}, "healthy"),
        ({"status": "UP 1/3", "check_status": "L7STS"}, "healthy"),  # failing, under the unhealthy threshold
        ({"status": "DOWN", "check_status": "L4CON"}, "unhealthy"),
        ({"status": "DOWN 1/2", "check_status": "* L7OK"}, "unhealthy"),  # passing, under the healthy threshold
        ({"status": "MAINT", "check_status": "L7OK"}, "unhealthy"),
    ],
)
def test_haproxy_server_states_map_to_elb_target_states(fields, state):
    assert balancer.target_state(fields) == state


def test_an_instance_gets_its_metadata_service_and_no_key_pair():
    """Every service of the instance sees where its metadata service is (systemd's manager
    environment, written before boot) and signs as its instance role: no key pair is handed out."""
    from local_aws.dataplane.agent import Settings
    from local_aws.dataplane.instances import platform_environment_conf

    settings = Settings("s", "http://127.0.0.1:5000", "eu-west-1", Path("/tmp/s"), "podman", "image")
    environment = settings.instance_environment("i-0abc", "127.20.10.4")
    assert environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] == "http://127.0.0.1:5000/local-aws/imds/i-0abc/"
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & environment.keys()
    conf = platform_environment_conf(environment)
    assert conf.splitlines()[1:] == [
        "[Manager]",
        'DefaultEnvironment="AWS_DEFAULT_REGION=eu-west-1" '
        '"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:5000/local-aws/imds/i-0abc/" '
        '"AWS_ENDPOINT_URL=http://127.0.0.1:5000" "AWS_METADATA_SERVICE_NUM_ATTEMPTS=3" '
        '"AWS_METADATA_SERVICE_TIMEOUT=5" "AWS_REGION=eu-west-1" "IMAGE_DELIVERY_LISTEN_ADDRESS=127.20.10.4"',
    ]
