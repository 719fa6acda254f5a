"""``python -m webui.cli …`` (how ``closeloop run`` starts its worker, and how tests start processes)."""

from . import main

main()
