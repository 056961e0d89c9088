"""`python -m wirecompat` runs the /ws/node adapter (same as `lingua compat run`)."""

import sys

from lingua_cli.main import main

if __name__ == "__main__":
    main(["compat", "run", *sys.argv[1:]])
