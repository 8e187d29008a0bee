"""``python -m tinyseq``: the ``tinyseq`` command (``tinyseq/app/cli.py``)."""
import sys

from .app.cli import main

sys.exit(main())
