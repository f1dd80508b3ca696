"""Allow ``python -m auditor``."""

import sys

from auditor.cli import main

# The guard matters: worker processes (``--processes``) re-import the main module when they start.
if __name__ == "__main__":
    sys.exit(main())
