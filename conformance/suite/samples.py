"""Sample media for multimodal cases, and MIME sniffing from magic bytes and structure.

The samples live in ``<repo>/media`` and are described by ``media/manifest.yaml`` (written by
``tools/make_media.py``): one real file per MIME type, each built around one word a model can report.

``sniff_mime`` recognises the binary formats among the supported types from their bytes, so that a
gateway (or the reference gateway) can notice a declared MIME type that does not match the data.
Text formats (Python, JavaScript, HTML, CSS, Markdown, CSV, XML, RTF, plain text) cannot be told
apart reliably from their bytes: for any of them ``sniff_mime`` answers ``"text/plain"`` (UTF-8 text
without control characters) or ``None``. Aliases that name one container get one answer:
``video/mpeg`` for any MPEG program stream (``video/mpg`` too), while the ``ftyp`` brand separates
``video/mp4``, ``video/mov`` (brand ``qt  ``), ``video/3gpp`` (``3g*``), ``image/heic`` and ``image/heif``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import yaml

from conformance.validation.documents import SAFE_LOADER

MEDIA_DIR = Path(str(files("conformance.suite") / "media"))
MANIFEST = "manifest.yaml"


@dataclass(frozen=True)
class MediaSample:
    """One sample file: its MIME type, family, Gemini modality and the word it carries."""

    file: Path
    mime_type: str
    family: str
    modality: str
    word: str
    size: int
    sha256: str = ""

    def read(self) -> bytes:
        """The file's bytes."""
        return self.file.read_bytes()


def load_media(directory: Path | None = None) -> list[MediaSample]:
    """The samples listed in ``directory/manifest.yaml`` (default: ``<repo>/media``), in manifest order."""
    return list(_manifest(MEDIA_DIR if directory is None else Path(directory)))


@cache
def _manifest(base: Path) -> tuple[MediaSample, ...]:
    """A manifest's samples, read once per process (the reference, its faults and the cases all ask)."""
    manifest = yaml.load((base / MANIFEST).read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    return tuple(
        MediaSample(
            file=base / entry["file"],
            mime_type=entry["mime_type"],
            family=entry["family"],
            modality=entry["modality"],
            word=entry["word"],
            size=int(entry["bytes"]),
            sha256=str(entry.get("sha256", "")),
        )
        for entry in manifest["files"]
    )


def sample_for(mime_type: str, directory: Path | None = None) -> MediaSample:
    """The sample of ``mime_type``; ``KeyError`` if the manifest has none."""
    for sample in load_media(directory):
        if sample.mime_type == mime_type:
            return sample
    raise KeyError(f"no media sample of type {mime_type!r}")


# --- sniffing -----------------------------------------------------------------------------------

ASF_HEADER_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2"})
# ISO base media brands of formats that are not among the supported types.
OTHER_ISO_BRANDS = frozenset({b"avif", b"avis", b"crx ", b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "})
QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"pnot"})

MP3_BITRATES_V1_L3 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MP3_BITRATES_V2_L3 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
MP3_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def sniff_mime(data: bytes) -> str | None:
    """The canonical MIME type of ``data`` judged by its bytes, ``"text/plain"`` for text, else ``None``."""
    for sniffer in SNIFFERS:
        found = sniffer(data)
        if found is not None:
            return found
    return "text/plain" if _looks_like_text(data) else None


def _sniff_image_or_document(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _sniff_riff_form(data: bytes) -> str | None:
    if data[:4] == b"RIFF":
        return {b"WAVE": "audio/wav", b"AVI ": "video/avi", b"WEBP": "image/webp"}.get(data[8:12])
    if data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    return None


def _sniff_iso(data: bytes) -> str | None:
    """ISO base media (MP4, QuickTime, 3GP, HEIF): decided by the ``ftyp`` major brand."""
    if len(data) < 12:
        return None
    if data[4:8] != b"ftyp":
        # Old QuickTime files start without ftyp, straight with a movie or media atom.
        return "video/mov" if data[4:8] in QUICKTIME_ATOMS and int.from_bytes(data[:4], "big") >= 8 else None
    brand = data[8:12]
    if brand == b"qt  ":
        return "video/mov"
    if brand.startswith(b"3g"):
        return "video/3gpp"
    if brand in HEIC_BRANDS:
        return "image/heic"
    if brand in HEIF_BRANDS:
        return "image/heif"
    if brand in OTHER_ISO_BRANDS:
        return None
    return "video/mp4"


def _sniff_containers(data: bytes) -> str | None:
    if data.startswith(b"fLaC"):
        return "audio/flac"
    if data.startswith(b"OggS\x00"):
        return "audio/ogg"
    if data.startswith(EBML_MAGIC):
        return "video/webm" if _ebml_doctype(data) == b"webm" else None
    if data.startswith(ASF_HEADER_GUID):
        return "video/wmv"
    if data.startswith(b"FLV\x01") and len(data) >= 9 and int.from_bytes(data[5:9], "big") >= 9:
        return "video/x-flv"
    if data.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return "video/mpeg"
    return None


def _sniff_mpeg_audio(data: bytes) -> str | None:
    """MP3 (MPEG audio Layer III, maybe after an ID3v2 tag) or ADTS AAC, from valid frame headers."""
    start = 0
    if data.startswith(b"ID3") and len(data) >= 10:
        size = 0
        for byte in data[6:10]:
            size = (size << 7) | (byte & 0x7F)
        start = 10 + size + (10 if data[5] & 0x10 else 0)
    header = data[start : start + 7]
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    layer = (header[1] >> 1) & 3
    if layer == 0:
        if header[1] & 0xF6 == 0xF0 and len(header) == 7 and _adts_frame_length(header) is not None:
            return "audio/aac"
        return None
    if layer == 1:
        length = _mp3_frame_length(header)
        if length is None:
            return None
        following = data[start + length : start + length + 2]
        if len(following) < 2 or (following[0] == 0xFF and following[1] & 0xE0 == 0xE0):
            return "audio/mp3"
    return None


def _mp3_frame_length(header: bytes) -> int | None:
    """The length of the Layer III frame starting with ``header``, or None if the header is invalid."""
    version = (header[1] >> 3) & 3
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 3
    if version == 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrates = MP3_BITRATES_V1_L3 if version == 3 else MP3_BITRATES_V2_L3
    sample_rate = MP3_SAMPLE_RATES[version][rate_index]
    padding = (header[2] >> 1) & 1
    factor = 144 if version == 3 else 72
    return factor * bitrates[bitrate_index] * 1000 // sample_rate + padding


def _adts_frame_length(header: bytes) -> int | None:
    """The length of the ADTS frame starting with ``header``, or None if the header is invalid."""
    if (header[2] >> 2) & 0x0F >= 13:
        return None
    length = ((header[3] & 0x03) << 11) | (header[4] << 3) | (header[5] >> 5)
    return length if length >= 7 else None


def _ebml_vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at ``pos``: (value, length), or None if malformed."""
    if pos >= len(data) or data[pos] == 0:
        return None
    length = 8 - data[pos].bit_length() + 1
    if pos + length > len(data):
        return None
    value = int.from_bytes(data[pos : pos + length], "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
    return value, length


def _ebml_doctype(data: bytes) -> bytes | None:
    """The DocType of the EBML header at the start of ``data`` (``webm``, ``matroska``), if present."""
    size = _ebml_vint(data, 4, keep_marker=False)
    if size is None:
        return None
    pos = 4 + size[1]
    end = min(len(data), pos + size[0])
    while pos < end:
        ident = _ebml_vint(data, pos, keep_marker=True)
        if ident is None:
            return None
        length = _ebml_vint(data, pos + ident[1], keep_marker=False)
        if length is None:
            return None
        body = pos + ident[1] + length[1]
        if ident[0] == 0x4282:
            return data[body : body + length[0]]
        pos = body + length[0]
    return None


SNIFFERS: tuple[Callable[[bytes], str | None], ...] = (
    _sniff_image_or_document,
    _sniff_riff_form,
    _sniff_iso,
    _sniff_containers,
    _sniff_mpeg_audio,
)


def _looks_like_text(data: bytes) -> bool:
    """Whether ``data`` is non-empty UTF-8 without control characters other than whitespace."""
    if not data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(char >= " " or char in "\t\n\r\f" for char in text.removeprefix("\ufeff"))
