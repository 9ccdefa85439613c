"""`python -m pykeeper`: the `pykeeper` command."""

import sys

from pykeeper.cli import main

sys.exit(main())
