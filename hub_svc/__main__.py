"""`python -m hub_svc` runs the model hub (same as `lingua hub run`)."""

import sys

from lingua_cli.main import main

if __name__ == "__main__":
    main(["hub", "run", *sys.argv[1:]])
