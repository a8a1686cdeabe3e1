"""Route 53 alias targets answered as AWS answers them: lower case and fully qualified.

Upstream gap (moto 5.2.5): an alias record's AliasTarget.DNSName is returned exactly as it was
given. Route 53 returns it in lower case with a trailing dot (`my-alb-1.eu-west-1.elb.amazonaws.com.`),
and a tool that compares the record as given against that answer sees a change on every run
(amazon.aws.route53, community.aws#192). With moto's leniency such a rerun would look idempotent
here and rewrite the record forever on AWS.
"""

from __future__ import annotations

from typing import Any

from ._patching import Fix


def qualified(name: str) -> str:
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.route53.models import RecordSet

    original_init = RecordSet.__init__

    def init(self: RecordSet, kwargs: dict[str, Any]) -> None:
        original_init(self, kwargs)
        target = self.alias_target
        if isinstance(target, dict) and isinstance(target.get("DNSName"), str):
            self.alias_target = {**target, "DNSName": qualified(target["DNSName"])}

    return [(RecordSet, "__init__", init)]


FIX = Fix(
    name="route53-alias-names",
    upstream_gap="alias targets are answered as given, not in lower case with a trailing dot",
    patches=_patches,
)
