"""`python -m cowiki` runs the command line."""

import sys

from cowiki.cli import main

sys.exit(main())
