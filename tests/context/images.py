"""Real and hand-built image bytes for the attachment tests: the PNG Anthropic was sent in a recorded request, and
the smallest headers of the other accepted types that carry a size."""

from __future__ import annotations

import base64
import json
import struct

import yaml

from tests.conftest import FIXTURES

IMAGE_CASSETTE = FIXTURES / "anthropic" / "llm-anthropic" / "test_image_prompt.yaml"


def _recorded_png() -> bytes:
    body = json.loads(yaml.safe_load(IMAGE_CASSETTE.read_text(encoding="utf-8"))["interactions"][0]["request"]["body"])
    return base64.b64decode(body["messages"][0]["content"][0]["source"]["data"])


PNG_166x282 = _recorded_png()


def jpeg(width: int, height: int) -> bytes:
    """SOI, an APP0 segment to walk past, then a baseline start-of-frame holding the size."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def webp(width: int, height: int) -> bytes:
    """An extended (VP8X) header: canvas width and height minus one, 24 bits each."""
    chunk = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
