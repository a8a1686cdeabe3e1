"""Import the image API package from the source tree."""

from __future__ import annotations

import sys

from tests.helpers.playbook import PROJECT_ROOT

APP_SOURCE = str(PROJECT_ROOT / "files/app/src")
if APP_SOURCE not in sys.path:
    sys.path.insert(0, APP_SOURCE)
