"""``python -m conformance``: the ``conformance`` command."""

from __future__ import annotations

import sys

from conformance.cli.main import main

sys.exit(main())
