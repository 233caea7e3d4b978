"""Files given with a prompt: read, checked (text or an accepted image, within the size limits) and hashed."""

from __future__ import annotations

from pathlib import Path

from blake3 import blake3

from assistant.core.config import AttachmentSettings
from assistant.core.errors import UsageError
from assistant.core.media import sniff
from assistant.core.textsafe import for_terminal
from assistant.core.types import Attachment
from assistant.core.units import size_text

_SNIFF_BYTES = 64


def _limit(limits: AttachmentSettings, image: bool) -> float:
    return limits.max_image_mb * 1e6 if image else limits.max_text_kb * 1e3


def _check_size(shown: str, size: int, image: bool, limits: AttachmentSettings) -> None:
    limit = _limit(limits, image)
    if size > limit:
        setting, kind = ("attachments.max_image_mb", "an image") if image else ("attachments.max_text_kb", "a text file")
        raise UsageError(f"'{shown}' is {size_text(size)}; the limit for {kind} is {size_text(limit)} "
                         f"({setting} in config.toml). Attach a smaller part of it, or raise the limit.")


def from_bytes(name: str, data: bytes, limits: AttachmentSettings) -> Attachment:
    """An attachment made from bytes already read; refused with one line saying why."""
    shown = for_terminal(name)
    found = sniff(data)
    if not found.mime:
        raise UsageError(f"'{shown}' is not a text file or an image (PNG, JPEG, GIF or WebP); only those can be "
                         "attached.")
    _check_size(shown, len(data), found.mime.startswith("image/"), limits)
    return Attachment(name, found.mime, data, "b3:" + blake3(data).hexdigest(), found.width, found.height)


def read_attachment(path: str, limits: AttachmentSettings) -> Attachment:
    """A file named by the user, kept under the name they gave; missing, unreadable or unsuitable files are refused."""
    shown = for_terminal(path)
    file = Path(path).expanduser()
    try:
        if file.is_dir():
            raise UsageError(f"'{shown}' is a folder; attach the files in it one by one.")
        size = file.stat().st_size
        with file.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
            image = sniff(head).mime.startswith("image/")
            # Checked before the whole file is read: a 4 GB log must not be loaded only to be refused.
            _check_size(shown, size, image, limits)
            data = head + handle.read()
    except FileNotFoundError:
        raise UsageError(f"There is no file '{shown}'; check the path.") from None
    except PermissionError:
        raise UsageError(f"'{shown}' cannot be read (permission denied).") from None
    except OSError as exc:
        raise UsageError(f"'{shown}' cannot be read ({exc.strerror or exc.__class__.__name__}).") from None
    return from_bytes(path, data, limits)
