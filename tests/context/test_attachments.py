"""Reading attachments: text and the four image types accepted, everything else refused with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.config import AttachmentSettings
from assistant.core.errors import UsageError
from assistant.core.media import sniff
from assistant.core.types import ChatMessage
from assistant.engine.attachments import read_attachment
from tests.context.images import PNG_166x282, gif, jpeg, webp

LIMITS = AttachmentSettings()


@pytest.mark.parametrize(("data", "mime", "size"), [
    (PNG_166x282, "image/png", (166, 282)),
    (jpeg(640, 480), "image/jpeg", (640, 480)),
    (gif(32, 16), "image/gif", (32, 16)),
    (webp(1024, 768), "image/webp", (1024, 768)),
    ("héllo, wörld\n".encode(), "text/plain", (0, 0)),
])
def test_types_and_sizes_come_from_the_bytes(data: bytes, mime: str, size: tuple[int, int]) -> None:
    found = sniff(data)
    assert (found.mime, (found.width, found.height)) == (mime, size)


def test_a_text_file_is_labelled_with_its_name_before_the_question(tmp_path: Path) -> None:
    path = tmp_path / "todo.txt"
    path.write_text("buy milk", encoding="utf-8")
    file = read_attachment(str(path), LIMITS)
    message = ChatMessage("user", "what is on my list?", attachments=(file,))
    assert message.text == f'<file name="{path}">\nbuy milk\n</file>\n\nwhat is on my list?'
    assert file.digest.startswith("b3:") and len(file.digest) == 67


@pytest.mark.parametrize(("content", "expected"), [
    (b"%PDF-1.7\n\x00\x01binary", "is not a text file or an image (PNG, JPEG, GIF or WebP)"),
    (b"\xff\xfe\x00latin", "is not a text file or an image"),
    (b"x" * 2049, "is 2 KB; the limit for a text file is 2 KB (attachments.max_text_kb in config.toml)"),
])
def test_unsuitable_files_are_refused_with_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "thing.bin"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=expected.replace("(", r"\(").replace(")", r"\)")) as caught:
        read_attachment(str(path), AttachmentSettings(max_text_kb=2))
    assert "\n" not in caught.value.message and "thing.bin" in caught.value.message


def test_an_image_over_its_own_limit_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(PNG_166x282 + b"\x00" * 20_000)
    with pytest.raises(UsageError, match=r"the limit for an image is 10 KB \(attachments.max_image_mb"):
        read_attachment(str(path), AttachmentSettings(max_image_mb=0.01))


def test_missing_paths_and_folders_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="There is no file"):
        read_attachment(str(tmp_path / "nope.txt"), LIMITS)
    with pytest.raises(UsageError, match="is a folder"):
        read_attachment(str(tmp_path), LIMITS)
