import sys

from vidpipe.cli import main

sys.exit(main())
