"""JSON that reaches a terminal: readable text, no control byte a terminal would obey, the same data parsed back."""

from __future__ import annotations

import json

from assistant.core.textsafe import to_json


def test_json_for_a_terminal_escapes_c1_controls_and_keeps_the_data() -> None:
    data = {"description": "café \x9b31m red \x1b[2J", "name": "t.add"}
    text = to_json(data, indent=1)
    assert "\x9b" not in text and "\x1b" not in text  # C1 escaped by us, C0 (ESC) by json itself
    assert "café" in text  # non-ASCII text stays readable
    assert json.loads(text) == data
