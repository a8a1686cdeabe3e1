"""Pure functions for managing a CloudFront Function: what must change to reach the desired state.

A function has a DEVELOPMENT stage (created and updated) and a LIVE stage (what distributions
run, copied from DEVELOPMENT by a publish). Reaching "this code and config, live" takes at most a
create or an update, then a publish; nothing when both stages already hold them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# CloudFront Functions quotas: the code is at most 10 KB; the name 1-64 of [A-Za-z0-9_-].
MAX_CODE_BYTES = 10 * 1024
NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
RUNTIMES = ("cloudfront-js-1.0", "cloudfront-js-2.0")


@dataclass(frozen=True)
class Stage:
    """What one stage holds: its config (Comment, Runtime) and code."""

    config: dict[str, Any]
    code: bytes


@dataclass(frozen=True)
class FunctionPlan:
    create: bool = False
    update: bool = False
    publish: bool = False

    @property
    def changed(self) -> bool:
        return self.create or self.update or self.publish


def desired_config(comment: str, runtime: str) -> dict[str, str]:
    return {"Comment": comment, "Runtime": runtime}


def same_stage(stage: Stage | None, config: dict[str, Any], code: bytes) -> bool:
    if stage is None:
        return False
    return stage.code == code and all(stage.config.get(key, "") == value for key, value in config.items())


def check_code(code: bytes) -> None:
    if not code.strip():
        raise ValueError("the function code is empty")
    if len(code) > MAX_CODE_BYTES:
        raise ValueError(f"the function code is {len(code)} bytes; CloudFront Functions take at most {MAX_CODE_BYTES}")


def plan(
    development: Stage | None, live: Stage | None, config: dict[str, Any], code: bytes, publish: bool
) -> FunctionPlan:
    """The calls that bring a function (development None: it does not exist) to config and code,
    and to LIVE as well when publish is true."""
    create = development is None
    update = not create and not same_stage(development, config, code)
    return FunctionPlan(create=create, update=update, publish=publish and not same_stage(live, config, code))
