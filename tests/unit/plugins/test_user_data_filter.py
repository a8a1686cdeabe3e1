"""User data must fit EC2's 16,384 raw bytes: the first-boot program alone is larger as text, so
the launch template carries it gzip-compressed (cloud-init unpacks it) and the filter refuses
what would still not fit, before any call to AWS."""

from __future__ import annotations

import base64
import gzip
import random
import string
from pathlib import Path

import jinja2
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import FilterModule as AnsibleCoreFilters
from ansible_collections.image_delivery.stack.plugins.filter.ec2_user_data import (
    EC2_USER_DATA_LIMIT,
    FilterModule,
    ec2_user_data,
)
from ansible_collections.image_delivery.stack.plugins.lookup.collection_path import collection_paths

from tests.helpers.playbook import PROJECT_ROOT

# The lookups the compute role's defaults and user data template call, as Ansible runs them.
LOOKUPS = {
    "image_delivery.stack.collection_path": lambda path: collection_paths([path])[0],
    "ansible.builtin.file": lambda path: Path(path).read_text().rstrip("\n"),
}


def render_user_data(**overrides: str) -> str:
    """roles/compute/templates/user_data.sh.j2 with the role's defaults, as on an AWS stack."""
    defaults = yaml.safe_load((PROJECT_ROOT / "roles/compute/defaults/main.yml").read_text())
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.filters.update(AnsibleCoreFilters().filters())  # regex_replace, comment, ...
    environment.globals["lookup"] = lambda kind, path: LOOKUPS[kind](path)
    facts = {"aws_region": "eu-central-1", "compute_ami_architecture": "x86_64"}
    for name in ("compute_ssm_agent_url", "compute_ssm_agent_signing_key_file", "compute_bootstrap_script"):
        facts[name] = environment.from_string(defaults[name]).render(**facts)
    facts |= {
        "ansible_managed": "Ansible managed",
        "stack_name": "image-delivery-production",
        "compute_bucket_arn": "arn:aws:s3:::image-delivery-production-images-123456789012",
        "compute_table_arn": "arn:aws:dynamodb:eu-central-1:123456789012:table/image-delivery-production-catalog",
        "compute_group_name": "image-delivery-production-web",
        "compute_launch_hook_name": "image-delivery-production-web-launching",
        "compute_health_check_port": 8080,
        "compute_health_check_path": "/healthz",
        "compute_ssm_agent_signing_fingerprint": defaults["compute_ssm_agent_signing_fingerprint"],
        **overrides,
    }
    template = (PROJECT_ROOT / "roles/compute/templates/user_data.sh.j2").read_text()
    return environment.from_string(template).render(**facts)


def test_the_aws_user_data_is_over_the_limit_as_text_and_fits_compressed():
    text = render_user_data()
    assert "ssm-agent-signing-key.asc <<" in text and "IMAGE_DELIVERY_SSM_AGENT_FINGERPRINT=" in text
    assert len(text.encode()) > EC2_USER_DATA_LIMIT  # why the launch template cannot carry it as it is
    raw = base64.b64decode(ec2_user_data(text))
    assert len(raw) <= EC2_USER_DATA_LIMIT
    assert gzip.decompress(raw).decode() == text


def test_without_an_agent_url_no_key_is_written():
    text = render_user_data(compute_ssm_agent_url="")
    assert "ssm-agent-signing-key.asc <<" not in text and "FINGERPRINT=" not in text


def test_the_same_text_always_gives_the_same_user_data():
    """No timestamp in the gzip header: a rerun finds the launch template unchanged."""
    text = render_user_data()
    assert ec2_user_data(text) == ec2_user_data(text)
    assert base64.b64decode(ec2_user_data(text))[4:8] == b"\0\0\0\0"  # MTIME


def test_user_data_that_would_not_fit_is_refused_with_its_size():
    noise = "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=30000))
    with pytest.raises(AnsibleFilterError, match=r"compressed user data is \d+ bytes, \d+ over EC2's limit of 16384"):
        ec2_user_data(noise)


@pytest.mark.parametrize("value", ["", "   ", None, b"#!/bin/sh"])
def test_anything_but_text_is_refused(value):
    with pytest.raises(AnsibleFilterError, match="non-empty text"):
        ec2_user_data(value)


def test_the_filter_is_registered():
    assert FilterModule().filters()["ec2_user_data"] is ec2_user_data
