"""EC2 user data that fits EC2's limit: gzip-compressed (cloud-init unpacks it) and Base64-encoded."""

from __future__ import annotations

import base64
import gzip

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: ec2_user_data
short_description: Compress and encode a first-boot script as EC2 user data
description:
  - Compresses the text with gzip and encodes it in Base64, the form C(amazon.aws.ec2_launch_template)
    passes as C(UserData). cloud-init recognises gzip-compressed user data and unpacks it before it
    runs the script, so a first-boot program larger than the limit still fits.
  - EC2 refuses user data over 16,384 bytes in raw form (before Base64). The filter fails with the size
    and the overage before any call to AWS, instead of EC2's C(InvalidUserData.Malformed).
  - The gzip header carries no timestamp, so the same text always gives the same value and the launch
    template gets no new version on a rerun.
options:
  _input:
    description: The user data as text (for example a rendered shell script).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Create the launch template
  amazon.aws.ec2_launch_template:
    name: web
    user_data: "{{ lookup('ansible.builtin.template', 'user_data.sh.j2') | ec2_user_data }}"
"""

RETURN = r"""
_value:
  description: Base64 text of the gzip-compressed user data.
  type: str
"""

EC2_USER_DATA_LIMIT = 16384


def compressed_user_data(text: str) -> bytes:
    """The raw user data: gzip at the highest level, with no timestamp (stable across runs)."""
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def ec2_user_data(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise AnsibleFilterError(f"ec2_user_data expects the user data as non-empty text, got {type(text).__name__}")
    raw = compressed_user_data(text)
    if len(raw) > EC2_USER_DATA_LIMIT:
        raise AnsibleFilterError(
            f"ec2_user_data: compressed user data is {len(raw)} bytes, {len(raw) - EC2_USER_DATA_LIMIT} over "
            f"EC2's limit of {EC2_USER_DATA_LIMIT}; move what the first boot needs into the release bundle"
        )
    return base64.b64encode(raw).decode()


class FilterModule:
    def filters(self) -> dict:
        return {"ec2_user_data": ec2_user_data}
