"""`python3 -m kalium_archive`: see cli.py."""
import sys

from kalium_archive.cli import main

sys.exit(main())
