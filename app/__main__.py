"""`python -m app`: the same entry point as the `codetutor` command."""

import sys

from app.cli import main

sys.exit(main())
