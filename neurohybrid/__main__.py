"""``python -m neurohybrid`` is the ``neurohybrid`` command."""

import sys

from neurohybrid.cli import main

sys.exit(main())
