"""What a file is, from its first bytes: an image type the providers accept (with its size in pixels), text, or neither."""

from __future__ import annotations

import struct
from dataclasses import dataclass

# The image types every image-taking provider accepts (Anthropic's list is the shortest: JPEG, PNG, GIF, WebP).
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass(frozen=True)
class Sniffed:
    mime: str  # image/png ... or text/plain; "" for anything else
    width: int = 0
    height: int = 0


def _png(data: bytes) -> Sniffed:
    width, height = struct.unpack(">II", data[16:24]) if len(data) >= 24 else (0, 0)
    return Sniffed("image/png", width, height)


def _gif(data: bytes) -> Sniffed:
    width, height = struct.unpack("<HH", data[6:10]) if len(data) >= 10 else (0, 0)
    return Sniffed("image/gif", width, height)


def _jpeg(data: bytes) -> Sniffed:
    """Walk the segments to the first start-of-frame, which holds the size."""
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            at += 1
            continue
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            at += 1 if marker == 0xFF else 2
            continue
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return Sniffed("image/jpeg", width, height)
        at += 2 + length
    return Sniffed("image/jpeg")


def _webp(data: bytes) -> Sniffed:
    kind = data[12:16]
    if kind == b"VP8X" and len(data) >= 30:
        return Sniffed("image/webp", 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little"))
    if kind == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return Sniffed("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if kind == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return Sniffed("image/webp", width & 0x3FFF, height & 0x3FFF)
    return Sniffed("image/webp")


def sniff(data: bytes) -> Sniffed:
    """An accepted image type by its magic number, else text/plain for valid UTF-8 without NUL bytes, else ""."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    if b"\x00" in data:
        return Sniffed("")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return Sniffed("")
    return Sniffed("text/plain")
