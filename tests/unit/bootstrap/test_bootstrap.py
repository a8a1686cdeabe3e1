"""The first-boot program signs its S3 requests itself (no SDK on a fresh instance): its SigV4
headers must be exactly what botocore computes for the same request and moment."""

from __future__ import annotations

import datetime
import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import botocore.auth
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.helpers.playbook import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "files" / "bootstrap" / "image_delivery_bootstrap.py"
MOMENT = datetime.datetime(2026, 11, 23, 20, 15, 30, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def bootstrap() -> ModuleType:
    spec = importlib.util.spec_from_file_location("image_delivery_bootstrap", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def botocore_headers(url: str, token: str | None, monkeypatch) -> dict[str, str]:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: MOMENT)  # the moment under test
    request = AWSRequest(method="GET", url=url, headers={})
    signer = S3SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", token), "s3", "eu-west-1")
    signer.add_auth(request)
    return {name.lower(): value for name, value in request.headers.items()}


@pytest.mark.parametrize("token", [None, "session-token"])
@pytest.mark.parametrize(
    "url",
    [
        "https://s3.eu-west-1.amazonaws.com/my-bucket/releases/current",
        "http://127.0.0.1:5000/my-bucket/releases/0123abcd.tar.gz",
        "https://s3.eu-west-1.amazonaws.com/my-bucket/releases/a%20b.tar.gz",
    ],
)
def test_signature_matches_botocore(bootstrap, url, token, monkeypatch):
    credentials = {"key": "AKIDEXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG", "token": token or ""}
    ours = bootstrap.sign("GET", url, "eu-west-1", credentials, MOMENT)
    theirs = botocore_headers(url, token, monkeypatch)
    assert ours["authorization"] == theirs["authorization"]
    assert ours["x-amz-date"] == theirs["x-amz-date"]


def test_object_urls_default_to_the_regional_endpoint(bootstrap):
    assert bootstrap.object_url("", "eu-west-1", "b", "releases/current") == (
        "https://s3.eu-west-1.amazonaws.com/b/releases/current"
    )
    assert bootstrap.object_url("http://127.0.0.1:5000/", "eu-west-1", "b", "k") == "http://127.0.0.1:5000/b/k"


def test_a_bundle_with_another_checksum_is_refused(bootstrap, tmp_path, monkeypatch):
    monkeypatch.setattr(bootstrap, "RELEASES_DIR", tmp_path)
    with pytest.raises(SystemExit, match="does not match"):
        bootstrap.unpack(b"not the published bytes", "0" * 64, "r1")


STACK_ENV = {"AWS_REGION": "eu-west-1", "IMAGE_DELIVERY_BUCKET": "b"}
CLOSED_ENDPOINT = "http://127.0.0.1:9"  # the discard port: nothing listens, the request is refused


def test_waiting_ends_once_the_instances_play_configured_the_instance(bootstrap, tmp_path, monkeypatch):
    marker = tmp_path / "release"
    monkeypatch.setattr(bootstrap, "RELEASE_MARKER", marker)
    assert bootstrap.configured_release() == ""
    marker.write_text("0123456789abcdef\n")
    assert bootstrap.configured_release() == "0123456789abcdef"
    assert bootstrap.wait_for_release(STACK_ENV, CLOSED_ENDPOINT, timeout=0, interval=0) is None


def test_an_unconfigured_instance_keeps_waiting_for_a_release(bootstrap, tmp_path, monkeypatch):
    monkeypatch.setattr(bootstrap, "RELEASE_MARKER", tmp_path / "release")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit-test-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit-test-secret-key")
    with pytest.raises(SystemExit, match="no release published"):
        bootstrap.wait_for_release(STACK_ENV, CLOSED_ENDPOINT, timeout=0, interval=0)


def test_no_ssm_agent_is_installed_without_a_package_url(bootstrap):
    assert bootstrap.ensure_ssm_agent({"AWS_REGION": "eu-west-1"}) == "not wanted"
    assert bootstrap.ensure_ssm_agent({"IMAGE_DELIVERY_SSM_AGENT_URL": ""}) == "not wanted"


def test_the_ssm_agent_package_must_come_over_https(bootstrap, monkeypatch):
    monkeypatch.setattr(bootstrap, "ssm_agent_installed", lambda: False)
    with pytest.raises(SystemExit, match="https"):
        bootstrap.ensure_ssm_agent({"IMAGE_DELIVERY_SSM_AGENT_URL": "http://example.invalid/agent.deb"})


def test_the_health_url_is_the_instances_own_address(bootstrap, monkeypatch):
    stack = {"IMAGE_DELIVERY_HEALTH_PORT": "8080", "IMAGE_DELIVERY_HEALTH_PATH": "/healthz"}
    monkeypatch.delenv("IMAGE_DELIVERY_LISTEN_ADDRESS", raising=False)
    assert bootstrap.health_url(stack) == "http://127.0.0.1:8080/healthz"
    monkeypatch.setenv("IMAGE_DELIVERY_LISTEN_ADDRESS", "127.42.10.7")
    assert bootstrap.health_url(stack) == "http://127.42.10.7:8080/healthz"


def test_the_lifecycle_action_query_is_signed_as_botocore_signs_it(bootstrap, monkeypatch):
    """CompleteLifecycleAction as a signed GET of the Query API (the same SigV4 algorithm, service
    autoscaling; the content hash header is signed too, as S3's signer does)."""
    url = bootstrap.query_url("", "eu-west-1", "autoscaling", {
        "Action": "CompleteLifecycleAction", "Version": "2011-01-01", "AutoScalingGroupName": "stack-web",
        "LifecycleHookName": "stack-web-launching", "InstanceId": "i-0123", "LifecycleActionResult": "CONTINUE",
    })  # fmt: skip
    assert url.startswith("https://autoscaling.eu-west-1.amazonaws.com/?Action=CompleteLifecycleAction")
    credentials = {"key": "AKIDEXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG", "token": ""}
    ours = bootstrap.sign("GET", url, "eu-west-1", credentials, MOMENT, "autoscaling")
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: MOMENT)
    request = AWSRequest(method="GET", url=url, headers={})
    S3SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG"), "autoscaling", "eu-west-1").add_auth(request)
    assert ours["authorization"] == request.headers["Authorization"]


@pytest.mark.parametrize(("architecture", "package"), [("x86_64", "debian_amd64"), ("arm64", "debian_arm64")])
def test_the_default_ssm_agent_url_is_awss_regional_debian_package(architecture, package):
    """AWS's manual install for Debian: the .deb from the regional bucket amazon-ssm-<region>
    (Systems Manager user guide, "Manually installing SSM Agent on Debian Server instances")."""
    import jinja2
    import yaml

    defaults = yaml.safe_load((PROJECT_ROOT / "roles/compute/defaults/main.yml").read_text())
    url = (
        jinja2.Environment(undefined=jinja2.StrictUndefined)
        .from_string(defaults["compute_ssm_agent_url"])
        .render(aws_region="eu-central-1", compute_ami_architecture=architecture)
    )
    assert url == f"https://s3.eu-central-1.amazonaws.com/amazon-ssm-eu-central-1/latest/{package}/amazon-ssm-agent.deb"


# The SSM agent package's signature (gpgv against one pinned key)


def gpg(home: Path, *args: str, faked_time: str | None = None) -> str:
    clock = [f"--faked-system-time={faked_time}"] if faked_time else []
    command = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", "--passphrase", "", *clock]
    return subprocess.run([*command, *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def signer(tmp_path_factory) -> dict:
    """A throwaway signing key standing in for AWS's, a stranger's key, and their armored forms.
    The pinned copy of the signer is taken while its first self-signature (one day, in 2024)
    holds; the key is then renewed, as AWS renews its key, and signs today."""
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    gpg(home, "--quick-gen-key", "Package Signer <signer@example.com>", "ed25519", "sign", "1d",
        faked_time="20240101T000000")  # fmt: skip
    gpg(home, "--quick-gen-key", "Stranger <stranger@example.com>", "ed25519", "sign", "1y")
    fingerprints = [line.split(":")[9] for line in gpg(home, "--with-colons", "--list-keys").splitlines()
                    if line.startswith("fpr:")]  # fmt: skip
    signer_fpr, stranger_fpr = fingerprints[0], fingerprints[1]
    expired_copy = gpg(home, "--armor", "--export", signer_fpr)
    gpg(home, "--quick-set-expire", signer_fpr, "2y")
    return {
        "home": home,
        "fingerprint": signer_fpr,
        "stranger": stranger_fpr,
        "key": gpg(home, "--armor", "--export", signer_fpr),
        "expired_copy": expired_copy,
    }


def signed_package(signer: dict, directory: Path, by: str | None = None) -> tuple[Path, Path]:
    package = directory / "amazon-ssm-agent.deb"
    package.write_bytes(b"!<arch>\ndebian-binary   a stand-in package\n")
    signature = directory / "amazon-ssm-agent.deb.sig"
    gpg(signer["home"], "--local-user", by or signer["fingerprint"], "--output", str(signature), "--detach-sign",
        str(package))  # fmt: skip
    return package, signature


def test_a_package_signed_by_the_pinned_key_is_good(bootstrap, signer, tmp_path):
    package, signature = signed_package(signer, tmp_path)
    assert bootstrap.verify_signature(package, signature, signer["key"], signer["fingerprint"]) == "good"


def test_a_pinned_copy_past_its_expiry_still_verifies_what_the_renewed_key_signed(bootstrap, signer, tmp_path):
    """AWS renews its key's expiry by a new self-signature: a copy taken earlier makes gpgv say
    EXPKEYSIG, and the signature is still valid and the pinned key's."""
    package, signature = signed_package(signer, tmp_path)
    verdict = bootstrap.verify_signature(package, signature, signer["expired_copy"], signer["fingerprint"])
    assert verdict == "good (key copy past its expiry)"


def test_a_changed_package_is_refused(bootstrap, signer, tmp_path):
    package, signature = signed_package(signer, tmp_path)
    package.write_bytes(package.read_bytes() + b"one more byte")
    with pytest.raises(SystemExit, match="BADSIG"):
        bootstrap.verify_signature(package, signature, signer["key"], signer["fingerprint"])


def test_a_package_signed_by_another_key_is_refused(bootstrap, signer, tmp_path):
    package, signature = signed_package(signer, tmp_path, by=signer["stranger"])
    with pytest.raises(SystemExit, match="signature check failed"):
        bootstrap.verify_signature(package, signature, signer["key"], signer["fingerprint"])
    stranger_key = gpg(signer["home"], "--armor", "--export", signer["stranger"])
    with pytest.raises(SystemExit, match=f"VALIDSIG.*wanted {signer['fingerprint']}"):  # valid, but not the pin
        bootstrap.verify_signature(package, signature, stranger_key, signer["fingerprint"])


def test_a_key_that_is_not_armored_is_refused(bootstrap, signer, tmp_path):
    package, signature = signed_package(signer, tmp_path)
    with pytest.raises(SystemExit, match="not an armored OpenPGP public key"):
        bootstrap.verify_signature(package, signature, "not a key", signer["fingerprint"])


def test_the_shipped_key_is_the_pinned_one(bootstrap, tmp_path):
    """files/bootstrap/amazon-ssm-agent-signing-key.asc is the key whose fingerprint the compute
    role pins (AWS's SSM Agent signer)."""
    import yaml

    defaults = yaml.safe_load((PROJECT_ROOT / "roles/compute/defaults/main.yml").read_text())
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    key_file = PROJECT_ROOT / "files/bootstrap/amazon-ssm-agent-signing-key.asc"
    listing = gpg(home, "--with-colons", "--show-keys", str(key_file))
    fingerprints = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
    uids = [line.split(":")[9] for line in listing.splitlines() if line.startswith("uid:")]
    assert fingerprints[0] == defaults["compute_ssm_agent_signing_fingerprint"]
    assert uids == ["SSM Agent <ssm-agent-signer@amazon.com>"]
    dearmored = subprocess.run(["gpg", "--dearmor"], input=key_file.read_bytes(), capture_output=True, check=True)
    assert bootstrap.dearmor(key_file.read_text()) == dearmored.stdout  # the first boot reads the file as gpg does


def test_the_signature_is_fetched_from_the_package_url_with_sig(bootstrap, tmp_path, monkeypatch):
    """AWS's table in "Verifying the signature of SSM Agent": the Debian package's signature is
    .../latest/debian_<arch>/amazon-ssm-agent.deb.sig, beside the package; nothing is installed
    before the check."""
    url = "https://s3.eu-central-1.amazonaws.com/amazon-ssm-eu-central-1/latest/debian_amd64/amazon-ssm-agent.deb"
    fetched, installed = [], []
    key = tmp_path / "key.asc"
    key.write_text("-----BEGIN PGP PUBLIC KEY BLOCK-----\n-----END PGP PUBLIC KEY BLOCK-----\n")
    monkeypatch.setattr(bootstrap, "ssm_agent_installed", lambda: False)
    monkeypatch.setattr(bootstrap, "SSM_AGENT_KEY", key)
    monkeypatch.setattr(bootstrap, "download", lambda source, target: fetched.append(source))
    monkeypatch.setattr(bootstrap.subprocess, "run", lambda *args, **kwargs: installed.append(args))

    def refuse(package, signature, armored, fingerprint):
        raise SystemExit("signature check failed")

    monkeypatch.setattr(bootstrap, "verify_signature", refuse)
    monkeypatch.setattr(bootstrap, "Path", lambda path: tmp_path / Path(path).name)
    stack = {"IMAGE_DELIVERY_SSM_AGENT_URL": url, "IMAGE_DELIVERY_SSM_AGENT_FINGERPRINT": "DE92" * 10}
    with pytest.raises(SystemExit, match="signature check failed"):
        bootstrap.ensure_ssm_agent(stack)
    assert fetched == [url, url + ".sig"]
    assert installed == []


def test_the_agent_is_installed_only_with_its_key_and_fingerprint(bootstrap, tmp_path, monkeypatch):
    monkeypatch.setattr(bootstrap, "ssm_agent_installed", lambda: False)
    monkeypatch.setattr(bootstrap, "SSM_AGENT_KEY", tmp_path / "missing.asc")
    with pytest.raises(SystemExit, match=r"signing key .* and fingerprint must come with its URL"):
        bootstrap.ensure_ssm_agent({"IMAGE_DELIVERY_SSM_AGENT_URL": "https://example.invalid/agent.deb"})
