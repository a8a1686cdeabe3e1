"""The linear strategy run through Mitogen, without Mitogen's CPU pinning; plain linear without it.

Mitogen for Ansible (https://mitogen.networkgenomics.com/ansible_detailed.html) keeps one Python
interpreter per host and runs modules inside it, instead of uploading and unpacking an AnsiballZ
payload and importing boto3 again for every task. It carries the local and podman connections
(the controller and the local instances); connections it does not carry, such as
amazon.aws.aws_ssm on AWS, run as in plain linear.

Workaround, in this one place: Mitogen pins processes to CPUs (ansible_mitogen/affinity.py). On
a machine with 2 or 3 CPUs it reserves CPU 0 for its multiplexer and confines every worker and
every command they start to CPU 1, so two parallel runs (the test lanes) and every podman exec
share one core. mitogen 0.3.54 has no setting to turn this off (affinity.py picks LinuxPolicy
wherever sched_setaffinity exists), so the no-op base Policy replaces it here;
tests/unit/plugins/test_strategy.py covers that and the fallback.

Without the mitogen package (an execution environment built elsewhere) this is plain linear.
"""

from __future__ import annotations

DOCUMENTATION = """
name: mitogen_linear
short_description: The linear strategy through Mitogen (no CPU pinning), or plain linear
description:
  - Runs tasks host by host in lock step as C(linear) does, with Mitogen's persistent
    interpreters for the connections Mitogen carries (local, podman, ssh).
  - Falls back to C(linear), with a warning, when the mitogen package is not installed.
"""

from ansible.plugins.loader import strategy_loader
from ansible.utils.display import Display

try:
    import ansible_mitogen.affinity
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy
except ImportError:
    ansible_mitogen = None

if ansible_mitogen is None:
    Display().warning("mitogen is not installed: the mitogen_linear strategy runs as plain linear")
    StrategyModule = strategy_loader.get("linear", class_only=True)
else:
    ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

    class StrategyModule(  # type: ignore[no-redef]
        ansible_mitogen.strategy.StrategyMixin,
        ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True),
    ):
        """Linear through Mitogen."""
