"""Render assets/icon.png from the hand-written assets/icon.svg (run after editing the SVG).

    pip install cairosvg && python packaging/render_icon.py

cairosvg is a tool for whoever edits the icon, not a dependency of the app: the PNG is committed.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = 256  # the hicolor size desktop.py installs it under


def main() -> None:
    import cairosvg

    cairosvg.svg2png(url=str(ROOT / "assets" / "icon.svg"), write_to=str(ROOT / "assets" / "icon.png"),
                     output_width=SIZE, output_height=SIZE)


if __name__ == "__main__":
    main()
