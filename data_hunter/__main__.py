"""``python -m data_hunter`` runs the same command line as the ``data-hunter`` script."""

import sys

from data_hunter.cli import main

sys.exit(main())
