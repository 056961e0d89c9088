"""`python -m scheduler_svc` runs the scheduler (same as `lingua scheduler run`)."""

import sys

from lingua_cli.main import main

if __name__ == "__main__":
    main(["scheduler", "run", *sys.argv[1:]])
