"""Stand-in for ansible-test's pip bootstrap script (get-pip.py from ci-files.testing.ansible.com,
unreachable here: ansible/ansible#77304). scripts/ansible_sanity.py puts it in ansible-test's cache.

ansible-test runs it with the new venv's Python and pip's arguments (``pip==<version>`` and
options). Python's ensurepip installs its bundled pip, then that pip installs what was asked for
from the configured index. ensurepip sets PIP_CONFIG_FILE=/dev/null in this process, which would
hide the machine's pip configuration (its CA bundle, its mirrors) from the second step.
"""

import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel")

ensurepip.bootstrap(upgrade=True)
environment = {key: value for key, value in os.environ.items() if key not in ("PIP_CONFIG_FILE", "ENSUREPIP_OPTIONS")}
arguments = [argument for argument in sys.argv[1:] if argument not in GET_PIP_ONLY_OPTIONS]
subprocess.check_call([sys.executable, "-m", "pip", "install", *arguments], env=environment)
