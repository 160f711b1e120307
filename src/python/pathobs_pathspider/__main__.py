"""python3 -m pathobs_pathspider: the same as the pspdr-pathobs launcher."""

import sys

from .launcher import main

sys.exit(main())
