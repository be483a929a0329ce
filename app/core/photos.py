"""Photo uploads: only real images, scaled down, re-encoded, stripped of EXIF (location).

No Flask here: the caller passes bytes and the folder to write to.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from app.core.errors import N_, DomainError

MAX_BYTES = 10 * 1024 * 1024
MAX_SIDE = 1600
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
ACCEPTED = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"}


@dataclass(frozen=True)
class StoredPhoto:
    name: str
    width: int
    height: int


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo checked and shrunk in memory, not yet written anywhere."""

    image: Image.Image


def process(data: bytes, folder: Path) -> StoredPhoto:
    """Check, shrink and re-encode one photo as JPEG; return its stored name."""
    return save(prepare(data), folder)


def prepare(data: bytes) -> PreparedPhoto:
    """Check one photo and shrink it to at most 1,600 px without writing it."""
    if not data:
        raise DomainError(N_("The photo is empty."))
    if len(data) > MAX_BYTES:
        raise DomainError(N_("A photo may be at most 10 MB."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ACCEPTED:
                raise DomainError(N_("Only photos (JPEG, PNG, WEBP) can be attached."))
            if probe.width * probe.height > MAX_PIXELS:
                raise DomainError(N_("The photo is too large in pixels."))
            probe.verify()
            image = Image.open(io.BytesIO(data))
            if image.format in ("JPEG", "MPO"):
                image.draft("RGB", (MAX_SIDE * 2, MAX_SIDE * 2))  # decode at reduced size
            image.load()
    except DomainError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise DomainError(N_("This file is not a photo we can read.")) from exc
    image.thumbnail((MAX_SIDE, MAX_SIDE))  # shrink first: rotating a huge image costs memory
    image = ImageOps.exif_transpose(image)  # keep the way it was held, then drop EXIF
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit or float greyscale
        image = image.point(lambda v: v / 256 if image.mode != "F" else v).convert("L")
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.info = {}  # no EXIF, XMP, comments or profiles are carried over
    return PreparedPhoto(image)


def save(photo: PreparedPhoto, folder: Path) -> StoredPhoto:
    """Write a prepared photo as JPEG under a random name; return that name."""
    image = photo.image
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + ".jpg"
    image.save(folder / name, "JPEG", quality=85, optimize=True)
    return StoredPhoto(name, image.width, image.height)
