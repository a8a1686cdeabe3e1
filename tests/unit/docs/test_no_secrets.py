"""No secret is committed: every tracked file is scanned for the shapes secrets take (cloud keys,
private keys, tokens, passwords in URLs). The few dummy values the local endpoint accepts are
named here, and each is checked to be what it claims (a placeholder, not a key)."""

from __future__ import annotations

import re
import subprocess

from tests.helpers.playbook import PROJECT_ROOT
from tests.helpers.reliability import record

PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}\b"),
    "private key": re.compile(r"-----BEGIN (RSA |EC |OPENSSH |DSA |)PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}\b"),
    "password in a URL": re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"{}]{6,}@"),
    "AWX/controller token": re.compile(r"(?i)controller_oauth_?token\s*[=:]\s*['\"]?[A-Za-z0-9]{20,}"),
}
# The local AWS endpoint's key pairs (loopback only, no real data): documented placeholders, and
# no access key id of AWS's form (AKIA/ASIA), so no scanner mistakes them for one.
PLACEHOLDERS = {"LOCALDEPLOYER0000000", "local-endpoint-secret-key"}


def tracked_files() -> list[str]:
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True)
    return [name for name in listing.stdout.decode().split("\0") if name]


def test_no_secret_is_committed():
    findings, scanned = [], 0
    for name in tracked_files():
        path = PROJECT_ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:4096]:
            continue  # images and other binary files
        text = data.decode(errors="replace")
        scanned += 1
        for kind, pattern in PATTERNS.items():
            findings += [f"{name}: {kind}: {match.group(0)[:40]}" for match in pattern.finditer(text)]
    record("secret-in-repository", f"0 findings in {scanned} tracked text files", "0", not findings, files=scanned)
    assert scanned > 100
    assert not findings, "\n".join(findings)


def test_the_scanner_finds_what_it_looks_for():
    samples = {
        "AWS access key id": "AKIA" + "ABCDEFGHIJKLMNOP",
        "private key": "-----BEGIN " + "RSA PRIVATE KEY-----",
        "password in a URL": "https://deploy:" + "hunter22@example.com/repo.git",
        "GitHub token": "ghp_" + "a" * 36,
    }
    for kind, sample in samples.items():
        assert PATTERNS[kind].search(sample), kind


def test_the_dummy_keys_are_placeholders_only():
    texts = "\n".join(
        (PROJECT_ROOT / name).read_text() for name in ["inventory/local.yml", "inventory/local.aws_ec2.yml"]
    )
    keys = set(re.findall(r"(?:access_key|secret_key):\s*(\S+)", texts))
    assert keys <= PLACEHOLDERS, keys - PLACEHOLDERS
