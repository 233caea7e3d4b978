"""Entry point for `python -m assistant`."""

from assistant.main import main

raise SystemExit(main())
