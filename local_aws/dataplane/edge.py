"""The local edge cache: NGINX rendered from the CloudFront distribution's config.

Each cache behavior becomes a location, in the distribution's order, with its origin, TTLs, cache
key (query strings: none, all, or the listed keys) and allowed methods; the load balancer origin
gets the distribution's custom headers (the secret origin header). Responses carry
``X-Cache: Hit from cloudfront`` or ``Miss from cloudfront`` as CloudFront's do.

Where NGINX and CloudFront differ: NGINX honours the origin's Cache-Control within nothing (no
Min/Max TTL clamp), so a behavior whose MinTTL equals its MaxTTL ignores the origin's headers and
caches for exactly that long, and other behaviors use DefaultTTL only when the origin sends no
caching headers. Viewers speak plain HTTP on 127.0.0.1 (no viewer certificate locally).

Headers as CloudFront's legacy cache settings treat them: a behavior forwards to its origin only
the headers it lists (``ForwardedValues.Headers``) among those CloudFront otherwise removes
(``Accept``, ``Accept-Charset``, ``Accept-Language``, ``Authorization``; ``Cookie`` unless cookies
are forwarded), and a listed header is part of the cache key. An origin that reads a header the
behavior does not list sees none here either, as on CloudFront.

CloudFront Functions associated as ``viewer-request`` run under NGINX's njs module
(libnginx-mod-http-js) on the LIVE code the endpoint holds, before the cache key is taken: the
headers they set or remove are what is forwarded and keyed. Only header changes are applied here;
a function that throws, or answers with a response of its own, gets the viewer a 503 (CloudFront
answers a failed function with 503 as well). Functions must be plain ES5 (njs 0.7 lacks let/const).

Invalidations are applied by deleting the matching cache files: each NGINX cache file starts with
a header holding its key (``KEY: /path?query#headers``), which is matched against the invalidation
paths like CloudFront does (a trailing ``*`` is a prefix match; query strings are ignored).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..processes import running_pid, stop_pid, write_if_changed

DEFAULT_ERROR_TTL = 10
NJS_MODULE = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")
# Viewer headers CloudFront does not forward unless a behavior lists them (legacy cache settings).
REMOVED_HEADERS = ("Accept", "Accept-Charset", "Accept-Language", "Authorization")
# What runs a CloudFront Function's handler under njs: the viewer-request event in CloudFront's
# shape, and one variable per header the behavior forwards (empty: the function removed it).
FUNCTION_WRAPPER = """
function edgeEvent(r) {
    var querystring = {};
    var args = r.args;
    Object.keys(args).forEach(function (name) {
        var value = args[name];
        querystring[name] = Array.isArray(value)
            ? { value: String(value[0]), multiValue: value.map(function (v) { return { value: String(v) }; }) }
            : { value: String(value) };
    });
    var headers = {};
    Object.keys(r.headersIn).forEach(function (name) {
        headers[name.toLowerCase()] = { value: String(r.headersIn[name]) };
    });
    return { version: '1.0', context: { eventType: 'viewer-request', requestId: r.variables.request_id },
             viewer: { ip: r.remoteAddress },
             request: { method: r.method, uri: r.uri, querystring: querystring, headers: headers, cookies: {} } };
}

function edgeRequest(r) {
    try {
        var result = handler(edgeEvent(r));
        return result && result.statusCode === undefined && result.headers ? result : null;
    } catch (error) {
        r.error('CloudFront function failed: ' + error);
        return null;
    }
}

function edgeFailed(r) {
    return edgeRequest(r) ? '' : '1';
}

function edgeHeader(r, name) {
    var request = edgeRequest(r);
    var header = request && request.headers[name];
    return header ? String(header.value) : '';
}
"""


@dataclass(frozen=True)
class EdgeSettings:
    listen_host: str
    listen_port: int
    balancer_address: str
    origin_access_address: str
    state_dir: Path
    executable: str = "nginx"

    @property
    def config_file(self) -> Path:
        return self.state_dir / "nginx.conf"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "nginx.pid"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"

    @property
    def functions_dir(self) -> Path:
        return self.state_dir / "functions"


def items(value: dict | None) -> list:
    return list((value or {}).get("Items") or [])


def upstream_name(origin_id: str) -> str:
    return "origin_" + re.sub(r"[^A-Za-z0-9_]", "_", origin_id)


def location_regex(path_pattern: str) -> str:
    """A CloudFront path pattern (``*`` any characters, ``?`` one) as an anchored regex."""
    pattern = path_pattern if path_pattern.startswith("/") else "/" + path_pattern
    body = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return f"^{body}$"


def header_variable(name: str) -> str:
    return name.lower().replace("-", "_")


def function_name(arn: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", arn.rsplit("/", 1)[-1])


def viewer_request_function(behavior: dict) -> str:
    """The ARN of the behavior's viewer-request CloudFront Function, or ""."""
    for association in items(behavior.get("FunctionAssociations")):
        if association.get("EventType") == "viewer-request":
            return association["FunctionARN"]
    return ""


def header_value(header: str, function_arn: str) -> str:
    """The variable holding what the edge forwards of a header: after the function, if any."""
    if function_arn:
        return f"$edge_{function_name(function_arn)}_{header_variable(header)}"
    return f"$http_{header_variable(header)}"


def cache_key(forwarded: dict, function_arn: str = "") -> str:
    if not forwarded.get("QueryString"):
        key = "$edge_path"
    elif not (keys := sorted(items(forwarded.get("QueryStringCacheKeys")))):
        key = "$edge_path$is_args$args"
    else:
        key = "$edge_path?" + "&".join(f"{key}=$arg_{key}" for key in keys)
    headers = sorted(items(forwarded.get("Headers")), key=str.lower)
    if headers:
        key += "#" + "&".join(f"{header.lower()}={header_value(header, function_arn)}" for header in headers)
    return key


def header_lines(forwarded: dict, function_arn: str) -> list[str]:
    """Forward the listed headers (as the function left them); remove those CloudFront removes."""
    listed = {header.lower(): header for header in items(forwarded.get("Headers"))}
    lines = [f"proxy_set_header {header} {header_value(header, function_arn)};" for header in listed.values()]
    removed = [header for header in REMOVED_HEADERS if header.lower() not in listed]
    if (forwarded.get("Cookies") or {}).get("Forward", "none") == "none" and "cookie" not in listed:
        removed.append("Cookie")
    return lines + [f'proxy_set_header {header} "";' for header in removed]


def function_module(code: str, headers: Iterable[str]) -> str:
    """The njs module for one function: its code, the wrapper, one export per forwarded header."""
    exports = {"failed": "edgeFailed"}
    getters = []
    for header in sorted({h.lower() for h in headers}):
        getter = f"edgeHeader_{header_variable(header)}"
        getters.append(f"function {getter}(r) {{\n    return edgeHeader(r, {header!r});\n}}\n")
        exports[header_variable(header)] = getter
    members = ", ".join(f"{name}: {getter}" for name, getter in exports.items())
    return f"{code}\n{FUNCTION_WRAPPER}\n{''.join(getters)}\nexport default {{ {members} }};\n"


def functions_used(config: dict[str, Any]) -> dict[str, set[str]]:
    """Function ARN -> the headers forwarded by the behaviors that run it."""
    used: dict[str, set[str]] = {}
    for behavior in [*items(config.get("CacheBehaviors")), config["DefaultCacheBehavior"]]:
        arn = viewer_request_function(behavior)
        if arn:
            used.setdefault(arn, set()).update(items((behavior.get("ForwardedValues") or {}).get("Headers")))
    return used


def ttl_lines(behavior: dict) -> list[str]:
    minimum = int(behavior.get("MinTTL", 0))
    default = int(behavior.get("DefaultTTL", 86400))
    maximum = int(behavior.get("MaxTTL", 31536000))
    if maximum == 0:
        return ["proxy_cache off;"]
    # The cache key is the behavior's alone, as on CloudFront: an origin's Vary does not split it
    # (NGINX would key variants on the viewer's raw headers, hiding a header missing from the key).
    lines = ["proxy_ignore_headers Vary;"]
    if minimum == maximum:
        lines = ["proxy_ignore_headers Cache-Control Expires Vary;"]
        default = minimum
    lines += [
        f"proxy_cache_valid 200 203 204 206 300 301 302 410 {default}s;",
        f"proxy_cache_valid 404 {DEFAULT_ERROR_TTL}s;",
    ]
    return lines


def is_bucket(origin: dict) -> bool:
    return not origin.get("CustomOriginConfig")


def render_behavior(behavior: dict, origins: dict[str, dict], settings: EdgeSettings, pattern: str | None) -> list[str]:
    origin = origins[behavior["TargetOriginId"]]
    forwarded = behavior.get("ForwardedValues", {})
    function_arn = viewer_request_function(behavior)
    query = "$is_args$args" if forwarded.get("QueryString") else ""
    methods = " ".join(sorted(items(behavior.get("AllowedMethods")) or ["GET", "HEAD"]))
    head = f"location ~ {location_regex(pattern)} {{" if pattern else "location / {"
    lines = [head, f"    limit_except {methods} {{ deny all; }}"]
    if function_arn:
        lines.append(f"    if ($edge_{function_name(function_arn)}_failed) {{ return 503; }}")
    lines.append(f"    proxy_cache_key {cache_key(forwarded, function_arn)};")
    lines += ["    " + line for line in ttl_lines(behavior)]
    name, origin_path = upstream_name(origin["Id"]), origin.get("OriginPath", "")
    if is_bucket(origin):
        bucket = origin["DomainName"].split(".s3.", 1)[0]
        lines.append(f"    proxy_pass http://{name}/{bucket}{origin_path}$edge_path;")
    else:
        lines.append(f"    proxy_pass http://{name}{origin_path}$edge_origin_path{query};")
        timeout = int((origin.get("CustomOriginConfig") or {}).get("OriginReadTimeout", 30))
        lines.append(f"    proxy_read_timeout {timeout}s;")
    lines.append(f"    proxy_set_header Host {origin['DomainName']};")
    # Here, not in the server block: a location's own proxy_set_header lines replace the server's.
    # Keepalive to the origin, and no compression from it (the edge compresses for the viewer).
    lines += ['    proxy_set_header Connection "";', '    proxy_set_header Accept-Encoding "";']
    lines += ["    " + line for line in header_lines(forwarded, function_arn)]
    for header in items(origin.get("CustomHeaders")):
        lines.append(f'    proxy_set_header {header["HeaderName"]} "{header["HeaderValue"]}";')
    lines.append("}")
    return lines


def function_lines(config: dict[str, Any], settings: EdgeSettings) -> list[str]:
    """The http-level njs lines: one module per function, a variable per forwarded header."""
    used = functions_used(config)
    if not used:
        return []
    lines = [f"js_path {settings.functions_dir};"]
    for arn, headers in sorted(used.items()):
        name = function_name(arn)
        lines += [f"js_import {name} from {name}.js;", f"js_set $edge_{name}_failed {name}.failed;"]
        lines += [f"js_set $edge_{name}_{header_variable(h)} {name}.{header_variable(h)};" for h in sorted(headers)]
    return lines


def render(config: dict[str, Any], settings: EdgeSettings) -> str:
    origins = {origin["Id"]: origin for origin in items(config.get("Origins"))}
    state = settings.state_dir
    functions = function_lines(config, settings)
    load_njs = f"load_module {NJS_MODULE};\n" if functions else ""
    upstreams = []
    for origin_id, origin in origins.items():
        address = settings.origin_access_address if is_bucket(origin) else settings.balancer_address
        upstreams += [f"    upstream {upstream_name(origin_id)} {{ server {address}; keepalive 16; }}"]
    locations: list[str] = []
    for behavior in items(config.get("CacheBehaviors")):
        locations += render_behavior(behavior, origins, settings, behavior["PathPattern"])
    locations += render_behavior(config["DefaultCacheBehavior"], origins, settings, None)
    root_object = config.get("DefaultRootObject") or ""
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    return f"""# Rendered by the local data plane from CloudFront distribution config on the local AWS endpoint.
{load_njs}{user}worker_processes auto;
pid {settings.pid_file};
error_log {state}/error.log warn;
events {{ worker_connections 2048; }}
http {{
    default_type application/octet-stream;
    server_tokens off;
    log_format edge escape=json '{{"time":"$time_iso8601","method":"$request_method","uri":"$request_uri",'
        '"status":$status,"bytes":$body_bytes_sent,"cache":"$upstream_cache_status","seconds":$request_time}}';
    access_log {state}/access.log edge buffer=64k flush=1s;
    client_body_temp_path {state}/tmp/body;
    proxy_temp_path {state}/tmp/proxy;
    fastcgi_temp_path {state}/tmp/fastcgi;
    uwsgi_temp_path {state}/tmp/uwsgi;
    scgi_temp_path {state}/tmp/scgi;
    proxy_cache_path {settings.cache_dir} levels=1:2 keys_zone=edge:16m max_size=2g inactive=30d use_temp_path=off;
    map $request_uri $edge_path {{ "~^(?<path>[^?]*)" $path; default /; }}
    map $edge_path $edge_origin_path {{ "/" "/{root_object}"; default $edge_path; }}
    map $upstream_cache_status $edge_x_cache {{
        HIT "Hit from cloudfront"; STALE "Hit from cloudfront"; UPDATING "Hit from cloudfront";
        REVALIDATED "RefreshHit from cloudfront"; default "Miss from cloudfront";
    }}
{chr(10).join(upstreams)}
{chr(10).join("    " + line for line in functions)}
    gzip on;
    gzip_proxied any;
    gzip_vary on;
    gzip_types application/json application/javascript text/css text/plain image/svg+xml;
    server {{
        listen {settings.listen_host}:{settings.listen_port} reuseport;
        proxy_http_version 1.1;
        proxy_cache edge;
        proxy_cache_lock on;
        proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
        proxy_connect_timeout 10s;
        add_header X-Cache $edge_x_cache always;
        add_header Via "1.1 local-edge (image-delivery)" always;
{chr(10).join("        " + line for line in locations)}
    }}
}}
"""


def write_functions(config: dict[str, Any], code: dict[str, str], settings: EdgeSettings) -> bool:
    """Write each associated function's njs module; whether any changed (NGINX reloads them)."""
    used = functions_used(config)
    if used and not NJS_MODULE.exists():
        raise RuntimeError(f"the distribution runs CloudFront Functions: install libnginx-mod-http-js ({NJS_MODULE})")
    settings.functions_dir.mkdir(parents=True, exist_ok=True)
    changed = False
    for arn, headers in used.items():
        if arn not in code:
            raise RuntimeError(f"no LIVE code for the associated function {arn}")
        module = settings.functions_dir / f"{function_name(arn)}.js"
        changed = write_if_changed(module, function_module(code[arn], headers)) or changed
    return changed


def apply(config: dict[str, Any], settings: EdgeSettings, function_code: dict[str, str] | None = None) -> str:
    """Write the config (and the functions it runs) and start or reload NGINX (after ``nginx -t``);
    the action taken. function_code: each associated function's LIVE code, by ARN."""
    functions_changed = write_functions(config, function_code or {}, settings)
    for folder in [
        settings.cache_dir,
        *(settings.state_dir / "tmp" / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")),
    ]:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(folder, *nobody_ids())
    text = render(config, settings)
    candidate = settings.state_dir / "nginx.conf.candidate"
    write_if_changed(candidate, text)
    test = nginx(settings, "-t", "-c", str(candidate))
    if test.returncode != 0:
        raise RuntimeError(f"NGINX refused the rendered edge config: {test.stderr.strip()[-800:]}")
    changed = write_if_changed(settings.config_file, text)
    if running_pid(settings.pid_file) is None:
        started = nginx(settings, "-c", str(settings.config_file))
        if started.returncode != 0:
            raise RuntimeError(f"the edge did not start: {started.stderr.strip()[-800:]}")
        return "started"
    if changed or functions_changed:
        nginx(settings, "-c", str(settings.config_file), "-s", "reload")
        return "reloaded"
    return ""


def nginx(settings: EdgeSettings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [settings.executable, "-p", str(settings.state_dir), "-e", str(settings.state_dir / "error.log"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def nobody_ids() -> tuple[int, int]:
    import grp
    import pwd

    return pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid


def stop(settings: EdgeSettings) -> bool:
    return stop_pid(settings.pid_file)


def path_matches(key_path: str, invalidation_path: str) -> bool:
    if invalidation_path.endswith("*"):
        return key_path.startswith(invalidation_path[:-1])
    return key_path == invalidation_path


def cache_file_key(path: Path) -> str | None:
    """The key NGINX stored in a cache file's header, or None if it is not a cache file."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    marker = head.find(b"\nKEY: ")
    if marker < 0:
        return None
    end = head.find(b"\n", marker + 6)
    return head[marker + 6 : end].decode("utf-8", "replace") if end > 0 else None


def purge(cache_dir: Path, invalidation_paths: Iterable[str]) -> int:
    """Delete the cache files whose key's path matches an invalidation path; how many."""
    paths = list(invalidation_paths)
    removed = 0
    for root, _folders, files in os.walk(cache_dir):
        for name in files:
            file = Path(root) / name
            key = cache_file_key(file)
            if key is None:
                continue
            key_path = key.split("#", 1)[0].split("?", 1)[0]
            if any(path_matches(key_path, path) for path in paths):
                file.unlink(missing_ok=True)
                removed += 1
    return removed
