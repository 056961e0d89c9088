"""`python -m node_svc` runs a node (same as `lingua node run`)."""

import sys

from lingua_cli.main import main

if __name__ == "__main__":
    main(["node", "run", *sys.argv[1:]])
