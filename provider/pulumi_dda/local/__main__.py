"""``python -m pulumi_dda.local``: the same as ``pulumi-dda local``."""

import sys

from .cli import cli_main

sys.exit(cli_main())
