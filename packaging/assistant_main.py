"""PyInstaller's entry script: the frozen `assistant` executable runs the same main() as the installed command."""

from assistant.main import main

raise SystemExit(main())
