"""`python -m gateway` runs the gateway (same as `lingua gateway run`)."""

import sys

from lingua_cli.main import main

if __name__ == "__main__":
    main(["gateway", "run", *sys.argv[1:]])
