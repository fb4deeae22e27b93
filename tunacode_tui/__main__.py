"""Allow ``python -m tunacode_tui``."""

from tunacode_tui.cli import main

raise SystemExit(main())
