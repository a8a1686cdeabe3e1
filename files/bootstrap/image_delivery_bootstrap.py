#!/usr/bin/python3
"""First boot of an image-delivery instance: fetch the current release bundle and apply it.

Runs from the launch template's user data with the system Python (standard library only), so a
stock Debian 12 image needs nothing installed beforehand. Steps:

1. Read where the release lives from /etc/image-delivery/stack.env (written by the user data),
   and install AWS's SSM agent when the image lacks it and the stack names its package (the
   official Debian 12 AMI ships none; the instances play reaches instances through Session
   Manager). The package comes over HTTPS from AWS's regional bucket for it and is installed
   only once its OpenPGP signature checks against AWS's key, pinned by fingerprint.
2. Poll ``s3://BUCKET/releases/current`` (the id and sha256 of the release that the instances
   play published after a successful rolling release) until it exists.
3. Download ``releases/<id>.tar.gz``, check its sha256, unpack it under /opt/image-delivery.
4. Install ansible-core from the bundle's wheels into a virtualenv (no package index) and run the
   bundle's playbook against this instance (ansible-pull style): the same roles, settings and
   release marker as the instances play, so a later push changes nothing.

5. Once the instance answers the load balancer's health check locally, complete the group's
   launch lifecycle hook (CONTINUE): the group holds every new instance in Pending:Wait, out of
   the target group and before its health check grace period, until then.

An instance that the instances play configured while this program waited (a first deployment
starts the instances before any release exists) has its release already: the program then skips
applying it a second time and goes on with step 5.

Credentials and endpoint follow the AWS SDK order: the environment (AWS_ACCESS_KEY_ID, ...,
AWS_ENDPOINT_URL), else the instance profile's role through IMDSv2, at the SDKs'
AWS_EC2_METADATA_SERVICE_ENDPOINT when it is set (the local data plane points it at the local
endpoint's metadata service of this instance) or at EC2's own address.
Requests are signed with SigV4 here, in a few lines, to need no SDK on a fresh instance.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

STACK_ENV = Path("/etc/image-delivery/stack.env")
RELEASES_DIR = Path("/opt/image-delivery/releases")
ANSIBLE_VENV = Path("/opt/image-delivery/ansible")
RUNNING_MARKER = Path("/run/image-delivery/bootstrap.running")
DONE_MARKER = Path("/var/lib/image-delivery/bootstrap.done")
SSM_AGENT_KEY = Path("/etc/image-delivery/ssm-agent-signing-key.asc")  # written by the user data
RELEASE_MARKER = Path("/etc/image-delivery/release")  # the release this instance runs, however it got it
IMDS = "http://169.254.169.254"  # EC2's instance metadata service, unless the SDK setting names another


def metadata_endpoint() -> str:
    """The instance metadata service, as the AWS SDKs find it."""
    return (os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or IMDS).rstrip("/")


def metadata(path: str) -> str:
    """One IMDSv2 read: a session token first (the launch template requires IMDSv2), then the path."""
    base = metadata_endpoint()
    token_request = urllib.request.Request(
        f"{base}/latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"}
    )
    token = urllib.request.urlopen(token_request, timeout=5).read().decode()
    request = urllib.request.Request(f"{base}/{path}", headers={"X-aws-ec2-metadata-token": token})
    return urllib.request.urlopen(request, timeout=5).read().decode()


def log(message: str) -> None:
    print(f"{datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')} {message}", flush=True)


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def sign(
    method: str, url: str, region: str, credentials: dict[str, str], now: datetime.datetime, service: str = "s3"
) -> dict[str, str]:
    """SigV4 headers for a request without a body (the AWS documented algorithm)."""
    parts = urllib.parse.urlsplit(url)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = now.strftime("%Y%m%d")
    payload_hash = hashlib.sha256(b"").hexdigest()
    headers = {"host": parts.netloc, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    if credentials.get("token"):
        headers["x-amz-security-token"] = credentials["token"]
    signed = ";".join(sorted(headers))
    query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    )
    canonical = "\n".join(
        [
            method,
            parts.path or "/",  # already URI-encoded once by object_url, as S3 expects
            query,
            "".join(f"{name}:{headers[name]}\n" for name in sorted(headers)),
            signed,
            payload_hash,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + credentials["secret"]).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials['key']}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
    del headers["host"]
    return headers


def instance_credentials() -> dict[str, str]:
    """The environment's key pair, else the instance profile's through IMDSv2."""
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        return {
            "key": os.environ["AWS_ACCESS_KEY_ID"],
            "secret": os.environ["AWS_SECRET_ACCESS_KEY"],
            "token": os.environ.get("AWS_SESSION_TOKEN", ""),
        }
    base = "latest/meta-data/iam/security-credentials/"
    role = metadata(base).split()[0]
    data = json.loads(metadata(base + role))
    return {"key": data["AccessKeyId"], "secret": data["SecretAccessKey"], "token": data.get("Token", "")}


def instance_id() -> str:
    """This instance's id, from the instance metadata service."""
    return metadata("latest/meta-data/instance-id").strip()


def health_url(stack: dict[str, str]) -> str:
    """The load balancer's health check, as this instance answers it itself."""
    address = os.environ.get("IMAGE_DELIVERY_LISTEN_ADDRESS", "") or "127.0.0.1"
    port, path = stack.get("IMAGE_DELIVERY_HEALTH_PORT", "80"), stack.get("IMAGE_DELIVERY_HEALTH_PATH", "/healthz")
    return f"http://{address}:{port}{path}"


def wait_until_healthy(url: str, timeout: float, interval: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass  # not answering yet (nginx or the app still starting): checked again until the deadline
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer 200 within {timeout:.0f}s: the launch hook stays pending")
        time.sleep(interval)


def query_url(endpoint: str, region: str, service: str, parameters: dict[str, str]) -> str:
    base = endpoint.rstrip("/") if endpoint else f"https://{service}.{region}.amazonaws.com"
    return f"{base}/?{urllib.parse.urlencode(sorted(parameters.items()), quote_via=urllib.parse.quote)}"


def complete_launch(stack: dict[str, str], endpoint: str, attempts: int = 5) -> str:
    """CompleteLifecycleAction (CONTINUE) for this instance: "completed", or "none pending" when
    the group holds no action for it (a group without the hook, or one completed already)."""
    if not stack.get("IMAGE_DELIVERY_LAUNCH_HOOK"):
        return "none pending"
    region = stack["AWS_REGION"]
    url = query_url(endpoint, region, "autoscaling", {
        "Action": "CompleteLifecycleAction", "Version": "2011-01-01",
        "AutoScalingGroupName": stack["IMAGE_DELIVERY_GROUP"], "LifecycleHookName": stack["IMAGE_DELIVERY_LAUNCH_HOOK"],
        "InstanceId": instance_id(), "LifecycleActionResult": "CONTINUE",
    })  # fmt: skip
    for attempt in range(1, attempts + 1):
        now = datetime.datetime.now(datetime.UTC)
        request = urllib.request.Request(
            url, headers=sign("GET", url, region, instance_credentials(), now, "autoscaling")
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
                return "completed"
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")
            if error.code == 400 and "No active Lifecycle Action" in body:
                return "none pending"
            if attempt == attempts or error.code < 500:
                raise SystemExit(f"CompleteLifecycleAction failed ({error.code}): {body[:500]}") from error
        except (urllib.error.URLError, OSError) as error:
            if attempt == attempts:
                raise SystemExit(f"CompleteLifecycleAction failed: {error}") from error
        time.sleep(2 * attempt)
    return "none pending"


def object_url(endpoint: str, region: str, bucket: str, key: str) -> str:
    base = endpoint.rstrip("/") if endpoint else f"https://s3.{region}.amazonaws.com"
    return f"{base}/{bucket}/{urllib.parse.quote(key)}"


def get_object(url: str, region: str) -> bytes | None:
    """The object's bytes, or None when it does not exist (yet)."""
    now = datetime.datetime.now(datetime.UTC)
    request = urllib.request.Request(url, headers=sign("GET", url, region, instance_credentials(), now))
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        if error.code in (403, 404):  # S3 answers 403 for a missing key without ListBucket
            return None
        raise


def configured_release() -> str:
    """The release this instance runs already ('' before its first configuration)."""
    try:
        return RELEASE_MARKER.read_text().strip()
    except FileNotFoundError:
        return ""


def wait_for_release(stack: dict[str, str], endpoint: str, timeout: float, interval: float) -> tuple[str, str] | None:
    """The announced release id and sha256; None when the instance got configured from outside
    (by the instances play) in the meantime."""
    url = object_url(endpoint, stack["AWS_REGION"], stack["IMAGE_DELIVERY_BUCKET"], "releases/current")
    deadline = time.monotonic() + timeout
    while True:
        if configured_release():
            return None
        try:
            pointer = get_object(url, stack["AWS_REGION"])
        except (urllib.error.URLError, OSError) as error:
            log(f"the bucket is not reachable yet: {error}")
            pointer = None
        if pointer:
            release, checksum = pointer.decode().split()[:2]
            return release, checksum
        if time.monotonic() > deadline:
            raise SystemExit(f"no release published at {url} within {timeout:.0f}s")
        time.sleep(interval)


def unpack(data: bytes, checksum: str, release: str) -> Path:
    digest = hashlib.sha256(data).hexdigest()
    if digest != checksum:
        raise SystemExit(f"release {release}: sha256 {digest} does not match the published {checksum}")
    target = RELEASES_DIR / release
    partial = target.with_name(release + ".partial")
    subprocess.run(["rm", "-rf", str(partial)], check=True)
    partial.mkdir(parents=True)
    bundle = partial.with_suffix(".tar.gz")
    bundle.write_bytes(data)
    with tarfile.open(bundle) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(partial, filter="data")
        else:  # Python before 3.11.4: refuse paths that leave the folder, then extract
            for member in archive.getmembers():
                if member.name.startswith("/") or ".." in Path(member.name).parts or member.issym() or member.islnk():
                    raise SystemExit(f"release {release}: unsafe path {member.name} in the bundle")
            archive.extractall(partial)  # members checked above
    bundle.unlink()
    subprocess.run(["rm", "-rf", str(target)], check=True)
    partial.rename(target)
    return target


def ssm_agent_installed() -> bool:
    return shutil.which("amazon-ssm-agent") is not None or Path("/usr/bin/amazon-ssm-agent").exists()


def download(url: str, target: Path, attempts: int = 5) -> None:
    """GET url into target, retrying a few times with a growing pause."""
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=60) as answer:
                target.write_bytes(answer.read())
            return
        except (urllib.error.URLError, OSError) as error:
            if attempt == attempts:
                raise SystemExit(f"could not download {url}: {error}") from error
            log(f"download of {url} failed ({error}); retrying")
            time.sleep(5 * attempt)


def dearmor(armored: str) -> bytes:
    """The binary key of an ASCII-armored OpenPGP block (gpgv reads binary keyrings only)."""
    lines = armored.strip().splitlines()
    try:
        begin = next(i for i, line in enumerate(lines) if line.startswith("-----BEGIN PGP PUBLIC KEY BLOCK"))
        end = next(i for i, line in enumerate(lines) if line.startswith("-----END PGP PUBLIC KEY BLOCK"))
    except StopIteration:
        raise SystemExit("the SSM agent signing key is not an armored OpenPGP public key block") from None
    body = lines[begin + 1 : end]
    body = body[body.index("") + 1 :] if "" in body else body  # armor headers end at the first empty line
    return base64.b64decode("".join(line for line in body if not line.startswith("=")))


def verify_signature(package: Path, signature: Path, key: str, fingerprint: str) -> str:
    """Check a detached signature with gpgv against one pinned key, as AWS's "Verifying the
    signature of SSM Agent" describes: "good", or "good (key copy past its expiry)" when the
    pinned copy of the key carries an older expiry than AWS has since published (gpgv then says
    EXPKEYSIG, yet the signature is valid and made by the pinned key). Anything else ends the
    first boot: nothing unverified gets installed as root."""
    gpgv = shutil.which("gpgv")
    if gpgv is None:
        raise SystemExit("gpgv is needed to check the SSM agent's signature (Debian's gpgv package)")
    with tempfile.TemporaryDirectory() as home:
        keyring = Path(home) / "ssm-agent.gpg"
        keyring.write_bytes(dearmor(key))
        result = subprocess.run(
            [gpgv, "--homedir", home, "--status-fd", "1", "--keyring", str(keyring), str(signature), str(package)],
            capture_output=True, text=True,
        )  # fmt: skip
    status = [line.split()[1:] for line in result.stdout.splitlines() if line.startswith("[GNUPG:] ")]
    kinds = {fields[0] for fields in status if fields}
    signers = [fields[-1].upper() for fields in status if fields and fields[0] == "VALIDSIG"]
    wanted = fingerprint.replace(" ", "").upper()
    if result.returncode != 0 or kinds & {"BADSIG", "ERRSIG", "REVKEYSIG", "NO_PUBKEY"} or signers != [wanted]:
        raise SystemExit(
            f"{package.name}: signature check failed (gpgv exit {result.returncode}, "
            f"{' '.join(sorted(kinds)) or 'no status'}, signed by {signers or 'nobody known'}, wanted {wanted})"
        )
    return "good (key copy past its expiry)" if "EXPKEYSIG" in kinds else "good"


def ensure_ssm_agent(stack: dict[str, str]) -> str:
    """Install and start AWS's SSM agent from IMAGE_DELIVERY_SSM_AGENT_URL once its signature
    (the same URL with .sig) checks against the pinned key: "installed", "present" (the image has
    it) or "not wanted" (no URL: the instances are reached another way)."""
    url = stack.get("IMAGE_DELIVERY_SSM_AGENT_URL", "")
    if not url:
        return "not wanted"
    if ssm_agent_installed():
        return "present"
    if not url.startswith("https://"):
        raise SystemExit(f"IMAGE_DELIVERY_SSM_AGENT_URL must be an https URL, not {url}")
    fingerprint = stack.get("IMAGE_DELIVERY_SSM_AGENT_FINGERPRINT", "")
    if not fingerprint or not SSM_AGENT_KEY.exists():
        raise SystemExit(f"the SSM agent's signing key ({SSM_AGENT_KEY}) and fingerprint must come with its URL")
    package = Path("/var/cache/image-delivery/amazon-ssm-agent.deb")
    signature = package.with_name(package.name + ".sig")
    package.parent.mkdir(parents=True, exist_ok=True)
    download(url, package)
    download(url + ".sig", signature)
    log(f"SSM agent package signature: {verify_signature(package, signature, SSM_AGENT_KEY.read_text(), fingerprint)}")
    subprocess.run(["dpkg", "-i", str(package)], check=True)
    subprocess.run(["systemctl", "enable", "--now", "amazon-ssm-agent"], check=True)
    package.unlink(missing_ok=True)
    signature.unlink(missing_ok=True)
    return "installed"


def ensure_venv_support() -> None:
    if subprocess.run([sys.executable, "-c", "import ensurepip"], capture_output=True).returncode != 0:
        log("installing python3-venv")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "python3-venv"], check=True, env=env)


def apply(bundle: Path) -> None:
    ensure_venv_support()
    if not (ANSIBLE_VENV / "bin" / "ansible-playbook").exists():
        subprocess.run([sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True)
    subprocess.run(
        [str(ANSIBLE_VENV / "bin" / "pip"), "install", "--quiet", "--no-index", "--find-links",
         str(bundle / "bootstrap-wheels"), "ansible-core"],
        check=True,
    )  # fmt: skip
    env = dict(
        os.environ,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_ROLES_PATH=str(bundle / "roles"),
        ANSIBLE_CONFIG=str(bundle / "ansible.cfg"),
    )
    subprocess.run(
        [str(ANSIBLE_VENV / "bin" / "ansible-playbook"), "-i", "localhost,", "-c", "local",
         str(bundle / "bootstrap.yml"), "-e", f"@{bundle / 'release-vars.json'}"],
        check=True,
        env=env,
        cwd=str(bundle),
    )  # fmt: skip


def main() -> int:
    timeout = float(os.environ.get("IMAGE_DELIVERY_RELEASE_TIMEOUT", "1800"))
    stack = read_env_file(STACK_ENV)
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    log(f"SSM agent: {ensure_ssm_agent(stack)}")
    announced = wait_for_release(stack, endpoint, timeout, interval=5.0)
    # The instances play records the release before it announces it: checked again here.
    if announced is None or configured_release() == announced[0]:
        log(f"release {configured_release()} was applied by the instances play; nothing to apply")
        DONE_MARKER.parent.mkdir(parents=True, exist_ok=True)
        DONE_MARKER.write_text(f"{configured_release()}\n")
    else:
        apply_announced(stack, endpoint, *announced)
    wait_until_healthy(health_url(stack), timeout=300)
    log(f"serving: launch hook {complete_launch(stack, endpoint)}")
    return 0


def apply_announced(stack: dict[str, str], endpoint: str, release: str, checksum: str) -> None:
    # While applying (not while waiting for a first release), the instances play waits for us.
    RUNNING_MARKER.parent.mkdir(parents=True, exist_ok=True)
    RUNNING_MARKER.write_text(f"{os.getpid()}\n")
    try:
        log(f"applying release {release}")
        url = object_url(endpoint, stack["AWS_REGION"], stack["IMAGE_DELIVERY_BUCKET"], f"releases/{release}.tar.gz")
        data = get_object(url, stack["AWS_REGION"])
        if data is None:
            raise SystemExit(f"release {release} is announced but {url} is missing")
        apply(unpack(data, checksum, release))
        DONE_MARKER.parent.mkdir(parents=True, exist_ok=True)
        DONE_MARKER.write_text(f"{release}\n")
        log(f"release {release} applied")
    finally:
        RUNNING_MARKER.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
