"""Tests of the sample media: the manifest, each file's real format, and ``sniff_mime``.

Each file is checked with a real decoder where the test dependencies have one (Pillow, pillow-heif,
pypdf, the stdlib's wave, csv, xml, html and ast) and otherwise by walking its container structure.
"""

from __future__ import annotations

import array
import ast
import csv
import hashlib
import io
import shutil
import struct
import subprocess
import sys
import wave
import zlib
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from conformance.suite.samples import MEDIA_DIR, MediaSample, load_media, sample_for, sniff_mime

REPO = Path(__file__).resolve().parent.parent
MIME_TYPES = (
    "image/png", "image/jpeg", "image/webp", "image/heic", "image/heif",
    "audio/wav", "audio/mp3", "audio/aiff", "audio/aac", "audio/ogg", "audio/flac",
    "video/mp4", "video/mpeg", "video/mov", "video/avi", "video/x-flv", "video/mpg",
    "video/webm", "video/wmv", "video/3gpp",
    "application/pdf", "application/x-javascript", "text/javascript", "application/x-python",
    "text/x-python", "text/plain", "text/html", "text/css", "text/md", "text/csv", "text/xml", "text/rtf",
)  # fmt: skip
TEXT_TYPES = frozenset(
    {
        "application/x-javascript", "text/javascript", "application/x-python", "text/x-python",
        "text/plain", "text/html", "text/css", "text/md", "text/csv", "text/xml", "text/rtf",
    }
)  # fmt: skip
# Both name an MPEG program stream; sniff_mime answers with the canonical one.
SNIFF_ALIASES = {"video/mpg": "video/mpeg"}
MODALITY = {"image": "IMAGE", "audio": "AUDIO", "video": "VIDEO", "document": "DOCUMENT", "text": "TEXT"}
MAX_TOTAL = 3 * 1024 * 1024
MAX_VIDEO = 200 * 1024

MANIFEST = yaml.safe_load((MEDIA_DIR / "manifest.yaml").read_text(encoding="utf-8"))
ENTRIES = {entry["mime_type"]: entry for entry in MANIFEST["files"]}


def family_of(mime_type: str) -> str:
    """The family a MIME type belongs to."""
    if mime_type in TEXT_TYPES:
        return "text"
    if mime_type == "application/pdf":
        return "document"
    return mime_type.split("/")[0]


def data_of(mime_type: str) -> bytes:
    """The bytes of the sample of ``mime_type``."""
    return (MEDIA_DIR / ENTRIES[mime_type]["file"]).read_bytes()


# --- the manifest -------------------------------------------------------------------------------


def test_manifest_has_each_type_exactly_once() -> None:
    counts = Counter(entry["mime_type"] for entry in MANIFEST["files"])
    assert {t: n for t, n in counts.items() if n != 1} == {}
    assert set(counts) == set(MIME_TYPES)
    assert len({entry["file"] for entry in MANIFEST["files"]}) == len(MIME_TYPES)


@pytest.mark.parametrize("mime_type", MIME_TYPES)
def test_manifest_entry(mime_type: str) -> None:
    entry = ENTRIES[mime_type]
    path = MEDIA_DIR / entry["file"]
    assert path.is_file(), path
    data = path.read_bytes()
    assert len(data) == entry["bytes"]
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert entry["family"] == family_of(mime_type)
    assert entry["modality"] == MODALITY[entry["family"]]
    assert entry["word"] == MANIFEST["words"][entry["family"]]
    assert isinstance(entry["deterministic"], bool)
    assert entry["made_with"]


def test_each_family_has_its_own_word() -> None:
    words = MANIFEST["words"]
    assert set(words) == set(MODALITY)
    assert len(set(words.values())) == len(words)


def test_media_stays_small() -> None:
    total = sum(entry["bytes"] for entry in MANIFEST["files"])
    assert total < MAX_TOTAL, f"media is {total} bytes"
    videos = [entry for entry in MANIFEST["files"] if entry["family"] == "video"]
    large = {entry["file"]: entry["bytes"] for entry in videos if entry["bytes"] >= MAX_VIDEO}
    assert large == {}


def test_readme_names_the_generator_and_tools() -> None:
    readme = (MEDIA_DIR / "README.md").read_text(encoding="utf-8")
    assert "tools/make_media.py" in readme
    for tool, version in MANIFEST["tools"].items():
        assert f"{tool}: {version}" in readme
    for entry in MANIFEST["files"]:
        if not entry["deterministic"]:
            assert entry["file"] in readme


def test_load_media_matches_manifest() -> None:
    samples = load_media()
    assert [s.mime_type for s in samples] == [e["mime_type"] for e in MANIFEST["files"]]
    for sample in samples:
        entry = ENTRIES[sample.mime_type]
        assert sample == MediaSample(
            file=MEDIA_DIR / entry["file"],
            mime_type=entry["mime_type"],
            family=entry["family"],
            modality=entry["modality"],
            word=entry["word"],
            size=entry["bytes"],
            sha256=entry["sha256"],
        )
        assert sample.file.parent == REPO / "conformance" / "suite" / "media"
    assert load_media(MEDIA_DIR) == samples


def test_sample_for() -> None:
    assert sample_for("video/webm").file.name == ENTRIES["video/webm"]["file"]
    assert sample_for("text/rtf").word == MANIFEST["words"]["text"]
    with pytest.raises(KeyError):
        sample_for("image/gif")


# --- binary helpers -----------------------------------------------------------------------------


def iso_boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """The ISO-BMFF boxes between ``start`` and ``end`` as (type, body start, box end); must tile exactly."""
    end = len(data) if end is None else end
    boxes = []
    pos = start
    while pos < end:
        assert pos + 8 <= end, f"truncated box header at {pos}"
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = pos + 8
        if size == 1:
            size = struct.unpack(">Q", data[body : body + 8])[0]
            body += 8
        elif size == 0:
            size = end - pos
        assert size >= body - pos and pos + size <= end, f"box {kind!r} at {pos} overruns"
        boxes.append((kind, body, pos + size))
        pos += size
    assert pos == end
    return boxes


def handler_types(data: bytes, body: int, end: int) -> list[bytes]:
    """The ``hdlr`` handler types found under a container box (moov/trak/mdia)."""
    found = []
    for kind, child, child_end in iso_boxes(data, body, end):
        if kind in (b"trak", b"mdia"):
            found += handler_types(data, child, child_end)
        elif kind == b"hdlr":
            found.append(data[child + 8 : child + 12])
    return found


def check_iso_movie(data: bytes, brand_ok: Callable[[bytes], bool]) -> None:
    """An MP4/MOV/3GP file: ftyp first with an expected brand, moov with video and audio tracks, mdat."""
    boxes = iso_boxes(data)
    assert boxes[0][0] == b"ftyp"
    assert brand_ok(data[8:12]), data[8:12]
    kinds = [kind for kind, _, _ in boxes]
    assert b"moov" in kinds and b"mdat" in kinds
    _, body, end = boxes[kinds.index(b"moov")]
    moov_kinds = [kind for kind, _, _ in iso_boxes(data, body, end)]
    assert b"mvhd" in moov_kinds
    assert moov_kinds.count(b"trak") == 2
    assert sorted(handler_types(data, body, end)) == [b"soun", b"vide"]


def riff_chunks(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """RIFF chunks between ``start`` and ``end`` as (id, body start, body end); word-aligned, tiling."""
    chunks = []
    pos = start
    while pos < end:
        ident, size = struct.unpack("<4sI", data[pos : pos + 8])
        assert pos + 8 + size <= end, f"chunk {ident!r} overruns"
        chunks.append((ident, pos + 8, pos + 8 + size))
        pos += 8 + size + (size & 1)
    assert pos == end
    return chunks


def ebml_vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer: (value, length)."""
    first = data[pos]
    assert first != 0, f"bad EBML vint at {pos}"
    length = 9 - first.bit_length()
    value = int.from_bytes(data[pos : pos + length], "big")
    unknown = value & ((1 << (7 * length)) - 1) == (1 << (7 * length)) - 1
    if not keep_marker:
        value = -1 if unknown else value & ((1 << (7 * length)) - 1)
    return value, length


def ebml_elements(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """EBML elements between ``start`` and ``end`` as (id, body start, body end)."""
    elements = []
    pos = start
    while pos < end:
        ident, id_len = ebml_vint(data, pos, keep_marker=True)
        size, size_len = ebml_vint(data, pos + id_len, keep_marker=False)
        body = pos + id_len + size_len
        stop = end if size < 0 else body + size
        assert stop <= end, f"EBML element {ident:x} overruns"
        elements.append((ident, body, stop))
        pos = stop
    assert pos == end
    return elements


def ogg_crc(page: bytes) -> int:
    """The Ogg page checksum (CRC-32, polynomial 0x04C11DB7, not reflected, over the zeroed field)."""
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def ogg_pages(data: bytes) -> list[tuple[int, int, bytes]]:
    """The Ogg pages of ``data`` as (header type, serial, body); checks capture pattern, CRC, sequence."""
    pages: list[tuple[int, int, bytes]] = []
    pos = 0
    while pos < len(data):
        assert data[pos : pos + 5] == b"OggS\x00", f"no Ogg page at {pos}"
        flags = data[pos + 5]
        serial, sequence, crc, segments = struct.unpack("<IIIB", data[pos + 14 : pos + 27])
        table = data[pos + 27 : pos + 27 + segments]
        end = pos + 27 + segments + sum(table)
        zeroed = data[pos : pos + 22] + b"\0\0\0\0" + data[pos + 26 : end]
        assert ogg_crc(zeroed) == crc, f"bad CRC in page {sequence}"
        assert sequence == len(pages)
        pages.append((flags, serial, data[pos + 27 + segments : end]))
        pos = end
    return pages


def mp3_frame(header: bytes) -> tuple[int, int, int]:
    """An MPEG audio frame header: (version bits, sample rate, frame length); Layer III only."""
    assert header[0] == 0xFF and header[1] & 0xE0 == 0xE0, "no frame sync"
    version = (header[1] >> 3) & 3
    assert (header[1] >> 1) & 3 == 1, "not Layer III"
    assert version != 1
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
    assert bitrate_index not in (0, 15) and rate_index != 3
    if version == 3:
        kbps = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)[bitrate_index]
        rate = (44100, 48000, 32000)[rate_index]
        return version, rate, 144 * kbps * 1000 // rate + ((header[2] >> 1) & 1)
    kbps = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)[bitrate_index]
    rate = (22050, 24000, 16000)[rate_index] // (1 if version == 2 else 2)
    return version, rate, 72 * kbps * 1000 // rate + ((header[2] >> 1) & 1)


def aiff_rate(extended: bytes) -> float:
    """An IEEE 754 80-bit extended float (AIFF sample rate)."""
    exponent = int.from_bytes(extended[:2], "big") & 0x7FFF
    mantissa = int.from_bytes(extended[2:10], "big")
    return mantissa * 2.0 ** (exponent - 16383 - 63)


def pcm_peak(frames: bytes, byteorder: str) -> int:
    """The peak absolute value of 16-bit PCM samples."""
    samples = array.array("h", frames)
    if byteorder != sys.byteorder:
        samples.byteswap()
    return max(abs(s) for s in samples)


# --- per-type checks ----------------------------------------------------------------------------


def check_word_image(data: bytes, expected_format: str) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        assert image.format == expected_format
        image.load()
        gray = image.convert("L")
    histogram = gray.histogram()
    dark, light = sum(histogram[:64]), sum(histogram[192:])
    pixels = gray.width * gray.height
    assert gray.size == (400, 160)
    assert light > 0.7 * pixels, "not mostly white"
    assert dark > 0.02 * pixels, "no black word"


def check_png(data: bytes, _: str) -> None:
    check_word_image(data, "PNG")


def check_jpeg(data: bytes, _: str) -> None:
    check_word_image(data, "JPEG")


def check_webp(data: bytes, _: str) -> None:
    check_word_image(data, "WEBP")


def check_heif_family(data: bytes, major: bytes) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    kinds = [kind for kind, _, _ in iso_boxes(data)]
    assert kinds[0] == b"ftyp" and b"meta" in kinds and b"mdat" in kinds
    assert data[8:12] == major
    heif = pillow_heif.open_heif(io.BytesIO(data))
    assert heif.size == (400, 160)
    check_word_image(data, "HEIF")


def check_heic(data: bytes, _: str) -> None:
    check_heif_family(data, b"heic")


def check_heif(data: bytes, _: str) -> None:
    check_heif_family(data, b"mif1")


def check_wav(data: bytes, _: str) -> None:
    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getsampwidth() == 2
        frames = reader.readframes(reader.getnframes())
        seconds = reader.getnframes() / reader.getframerate()
    assert 0.3 < seconds < 3
    assert pcm_peak(frames, "little") > 3000, "silent"


def check_aiff(data: bytes, _: str) -> None:
    assert data[:4] == b"FORM" and data[8:12] == b"AIFF"
    assert struct.unpack(">I", data[4:8])[0] == len(data) - 8
    chunks = {}
    pos = 12
    while pos < len(data):
        ident, size = struct.unpack(">4sI", data[pos : pos + 8])
        chunks[ident] = data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    assert pos == len(data)
    channels, frames, bits = struct.unpack(">hIh", chunks[b"COMM"][:8])
    rate = aiff_rate(chunks[b"COMM"][8:18])
    assert (channels, bits) == (1, 16) and rate == 22050
    offset = struct.unpack(">I", chunks[b"SSND"][:4])[0]
    sound = chunks[b"SSND"][8 + offset :]
    assert len(sound) == frames * channels * bits // 8
    assert 0.3 < frames / rate < 3
    assert pcm_peak(sound, "big") > 3000, "silent"


def check_mp3(data: bytes, _: str) -> None:
    pos = 0
    if data.startswith(b"ID3"):
        size = 0
        for byte in data[6:10]:
            size = (size << 7) | (byte & 0x7F)
        pos = 10 + size
    count = 0
    end = len(data) - (128 if data[-128:-125] == b"TAG" else 0)
    while pos < end:
        version, rate, length = mp3_frame(data[pos : pos + 4])
        assert version == 3, "not MPEG-1"
        pos += length
        count += 1
    assert pos == end
    assert count >= 10


def check_aac(data: bytes, _: str) -> None:
    pos = count = 0
    while pos < len(data):
        header = data[pos : pos + 7]
        assert header[0] == 0xFF and header[1] & 0xF6 == 0xF0, f"no ADTS sync at {pos}"
        assert header[2] >> 6 == 1, "not AAC LC"
        length = ((header[3] & 0x03) << 11) | (header[4] << 3) | (header[5] >> 5)
        assert length >= 7
        pos += length
        count += 1
    assert pos == len(data)
    assert count >= 5


def check_ogg(data: bytes, _: str) -> None:
    pages = ogg_pages(data)
    assert len(pages) >= 3
    assert pages[0][0] & 0x02, "first page lacks BOS"
    assert pages[-1][0] & 0x04, "last page lacks EOS"
    assert len({serial for _, serial, _ in pages}) == 1
    assert pages[0][2].startswith(b"\x01vorbis") or pages[0][2].startswith(b"OpusHead")
    assert b"\x03vorbis" in pages[1][2] or pages[1][2].startswith(b"OpusTags")


def check_flac(data: bytes, _: str) -> None:
    assert data[:4] == b"fLaC"
    pos = 4
    first = True
    while True:
        kind, length = data[pos] & 0x7F, int.from_bytes(data[pos + 1 : pos + 4], "big")
        if first:
            assert (kind, length) == (0, 34), "STREAMINFO must come first"
            info = int.from_bytes(data[pos + 14 : pos + 22], "big")
            rate, channels = info >> 44, ((info >> 41) & 7) + 1
            bits, total = ((info >> 36) & 31) + 1, info & ((1 << 36) - 1)
            assert (rate, channels, bits) == (22050, 1, 16)
            assert 0.3 < total / rate < 3
            first = False
        last = data[pos] & 0x80
        pos += 4 + length
        if last:
            break
    assert data[pos] == 0xFF and data[pos + 1] & 0xFE == 0xF8, "no frame sync after metadata"


def check_mp4(data: bytes, _: str) -> None:
    check_iso_movie(data, lambda brand: brand in (b"isom", b"mp41", b"mp42"))


def check_mov(data: bytes, _: str) -> None:
    check_iso_movie(data, lambda brand: brand == b"qt  ")


def check_3gpp(data: bytes, _: str) -> None:
    check_iso_movie(data, lambda brand: brand.startswith(b"3gp"))


def check_mpeg_ps(data: bytes, mpeg2: bool) -> None:
    """An MPEG program stream: pack headers, PES packets of video 0xE0 and audio 0xC0, to the end."""
    pos = packs = 0
    streams: set[int] = set()
    while pos < len(data):
        code = data[pos : pos + 4]
        assert code[:3] == b"\x00\x00\x01", f"no start code at {pos}"
        if code[3] == 0xBA:
            packs += 1
            if data[pos + 4] >> 6 == 1:
                assert mpeg2, "MPEG-2 pack header in an MPEG-1 stream"
                pos += 14 + (data[pos + 13] & 7)
            else:
                assert data[pos + 4] >> 4 == 2 and not mpeg2, "bad pack header"
                pos += 12
        elif code[3] == 0xB9:
            pos += 4
            break
        else:
            assert code[3] >= 0xBB, f"bad stream id {code[3]:#x}"
            streams.add(code[3])
            pos += 6 + int.from_bytes(data[pos + 4 : pos + 6], "big")
    assert pos == len(data)
    assert packs >= 2
    assert {0xE0, 0xC0} <= streams
    assert b"\x00\x00\x01\xb3" in data, "no video sequence header"


def check_mpeg(data: bytes, _: str) -> None:
    check_mpeg_ps(data, mpeg2=False)


def check_mpg(data: bytes, _: str) -> None:
    check_mpeg_ps(data, mpeg2=True)


def check_avi(data: bytes, _: str) -> None:
    assert data[:4] == b"RIFF" and data[8:12] == b"AVI "
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    chunks = riff_chunks(data, 12, len(data))
    lists = {data[body : body + 4]: (body + 4, end) for ident, body, end in chunks if ident == b"LIST"}
    assert chunks[0][0] == b"LIST" and data[chunks[0][1] : chunks[0][1] + 4] == b"hdrl"
    assert b"movi" in lists and any(ident == b"idx1" for ident, _, _ in chunks)
    header = riff_chunks(data, *lists[b"hdrl"])
    assert header[0][0] == b"avih"
    kinds = []
    for ident, body, end in header:
        if ident == b"LIST" and data[body : body + 4] == b"strl":
            strh = riff_chunks(data, body + 4, end)[0]
            assert strh[0] == b"strh"
            kinds.append(data[strh[1] : strh[1] + 4])
    assert sorted(kinds) == [b"auds", b"vids"]
    assert len(riff_chunks(data, *lists[b"movi"])) >= 10


def check_flv(data: bytes, _: str) -> None:
    assert data[:4] == b"FLV\x01"
    assert data[4] == 0x05, "should flag audio and video"
    assert struct.unpack(">I", data[5:9])[0] == 9
    assert struct.unpack(">I", data[9:13])[0] == 0
    pos = 13
    kinds = []
    while pos < len(data):
        kind = data[pos] & 0x1F
        size = int.from_bytes(data[pos + 1 : pos + 4], "big")
        assert kind in (8, 9, 18), f"bad tag type {kind} at {pos}"
        assert data[pos + 8 : pos + 11] == b"\0\0\0", "stream id must be 0"
        previous = struct.unpack(">I", data[pos + 11 + size : pos + 15 + size])[0]
        assert previous == 11 + size
        kinds.append(kind)
        pos += 15 + size
    assert pos == len(data)
    assert kinds[0] == 18 and 8 in kinds and 9 in kinds
    assert b"onMetaData" in data[13:64]


def check_webm(data: bytes, _: str) -> None:
    top = ebml_elements(data, 0, len(data))
    assert [ident for ident, _, _ in top] == [0x1A45DFA3, 0x18538067], "EBML header then one Segment"
    header = {ident: data[body:end] for ident, body, end in ebml_elements(data, top[0][1], top[0][2])}
    assert header[0x4282] == b"webm"
    segment = [ident for ident, _, _ in ebml_elements(data, top[1][1], top[1][2])]
    for required in (0x1549A966, 0x1654AE6B, 0x1F43B675):  # Info, Tracks, Cluster
        assert required in segment, f"segment lacks {required:x}"


def check_wmv(data: bytes, _: str) -> None:
    header_guid = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
    data_guid = bytes.fromhex("3626b2758e66cf11a6d900aa0062ce6c")
    file_properties = bytes.fromhex("a1dcab8c47a9cf118ee400c00c205365")
    stream_properties = bytes.fromhex("9107dcb7b7a9cf118ee600c00c205365")
    assert data[:16] == header_guid
    header_size, count = struct.unpack("<QI", data[16:28])
    assert data[28:30] == b"\x01\x02"
    pos, children = 30, []
    while pos < header_size:
        guid, size = data[pos : pos + 16], struct.unpack("<Q", data[pos + 16 : pos + 24])[0]
        children.append(guid)
        pos += size
    assert pos == header_size and len(children) == count
    assert file_properties in children and children.count(stream_properties) == 2
    top = []
    pos = 0
    while pos < len(data):
        top.append(data[pos : pos + 16])
        pos += struct.unpack("<Q", data[pos + 16 : pos + 24])[0]
    assert pos == len(data)
    assert top[:2] == [header_guid, data_guid]


def check_pdf(data: bytes, word: str) -> None:
    from pypdf import PdfReader

    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == 1
    assert reader.pages[0].extract_text().strip() == word


def text_of(data: bytes, word: str) -> str:
    text = data.decode("utf-8")
    assert word in text
    return text


def check_plain(data: bytes, word: str) -> None:
    assert text_of(data, word).strip() == word


def check_python(data: bytes, word: str) -> None:
    tree = ast.parse(text_of(data, word))
    constants = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
    assert word in constants
    ran = subprocess.run([sys.executable, "-I", "-c", data.decode()], capture_output=True, text=True)
    assert ran.stdout == f"{word}\n"


def balanced(text: str, pairs: dict[str, str], escape: str | None = None, quotes: str = "") -> bool:
    """Whether the bracket pairs in ``text`` balance, skipping escaped characters and quoted strings."""
    stack: list[str] = []
    quote = None
    chars = iter(text)
    for char in chars:
        if char == escape:
            next(chars, None)
        elif quote:
            quote = None if char == quote else quote
        elif char in quotes:
            quote = char
        elif char in pairs:
            stack.append(pairs[char])
        elif char in pairs.values() and (not stack or stack.pop() != char):
            return False
    return not stack and quote is None


def check_javascript(data: bytes, word: str) -> None:
    text = text_of(data, word)
    assert "console.log(" in text and f'"{word}"' in text
    assert balanced(text, {"(": ")", "{": "}", "[": "]"}, escape="\\", quotes="\"'`")
    assert all(line.endswith(";") for line in text.splitlines() if line)


def check_html(data: bytes, word: str) -> None:
    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.open: list[str] = []
            self.seen: list[str] = []
            self.text: list[str] = []
            self.doctype = ""

        def handle_decl(self, decl: str) -> None:
            self.doctype = decl

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.seen.append(tag)
            if tag not in ("meta", "link", "br", "img", "hr", "input"):
                self.open.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.open and self.open.pop() == tag, f"unbalanced </{tag}>"

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    parser = Collector()
    parser.feed(text_of(data, word))
    parser.close()
    assert parser.doctype.lower() == "doctype html"
    assert parser.open == []
    assert {"html", "head", "title", "body"} <= set(parser.seen)
    assert word in "".join(parser.text)


def check_css(data: bytes, word: str) -> None:
    text = text_of(data, word)
    assert balanced(text, {"{": "}", "(": ")"}, escape="\\", quotes="\"'")
    body = text.split("{", 1)[1].rsplit("}", 1)[0]
    declarations = [d.strip() for d in body.split(";") if d.strip()]
    assert declarations and all(":" in d for d in declarations)
    assert f'"{word}"' in body


def check_markdown(data: bytes, word: str) -> None:
    lines = text_of(data, word).splitlines()
    assert lines[0] == f"# {word}"
    assert f"**{word}**" in lines[2]


def check_csv(data: bytes, word: str) -> None:
    rows = list(csv.reader(io.StringIO(text_of(data, word), newline="")))
    assert rows[0] == ["id", "word"]
    assert rows[1:] == [["1", word]]


def check_xml(data: bytes, word: str) -> None:
    root = ElementTree.fromstring(data)
    assert data.startswith(b"<?xml ")
    assert [element.text for element in root.iter("word")] == [word]


def check_rtf(data: bytes, word: str) -> None:
    text = text_of(data, word)
    assert text.startswith("{\\rtf1")
    assert balanced(text, {"{": "}"}, escape="\\")
    assert text.rstrip().endswith("}")


CHECKS: dict[str, Callable[[bytes, str], None]] = {
    "image/png": check_png,
    "image/jpeg": check_jpeg,
    "image/webp": check_webp,
    "image/heic": check_heic,
    "image/heif": check_heif,
    "audio/wav": check_wav,
    "audio/mp3": check_mp3,
    "audio/aiff": check_aiff,
    "audio/aac": check_aac,
    "audio/ogg": check_ogg,
    "audio/flac": check_flac,
    "video/mp4": check_mp4,
    "video/mpeg": check_mpeg,
    "video/mov": check_mov,
    "video/avi": check_avi,
    "video/x-flv": check_flv,
    "video/mpg": check_mpg,
    "video/webm": check_webm,
    "video/wmv": check_wmv,
    "video/3gpp": check_3gpp,
    "application/pdf": check_pdf,
    "application/x-javascript": check_javascript,
    "text/javascript": check_javascript,
    "application/x-python": check_python,
    "text/x-python": check_python,
    "text/plain": check_plain,
    "text/html": check_html,
    "text/css": check_css,
    "text/md": check_markdown,
    "text/csv": check_csv,
    "text/xml": check_xml,
    "text/rtf": check_rtf,
}


@pytest.mark.parametrize("mime_type", MIME_TYPES)
def test_file_is_what_its_type_says(mime_type: str) -> None:
    CHECKS[mime_type](data_of(mime_type), ENTRIES[mime_type]["word"])


SAME_FORMAT = (
    frozenset({"application/x-javascript", "text/javascript"}),
    frozenset({"application/x-python", "text/x-python"}),
)


@pytest.mark.parametrize("mime_type", MIME_TYPES)
def test_check_rejects_every_other_sample(mime_type: str) -> None:
    """Each format check is a real discriminator: it fails on the samples of all other formats."""
    accepted = []
    for other in MIME_TYPES:
        if other == mime_type or frozenset({mime_type, other}) in SAME_FORMAT:
            continue
        try:
            CHECKS[mime_type](data_of(other), ENTRIES[other]["word"])
        except Exception:  # noqa: BLE001 - any failure counts as a rejection
            continue
        accepted.append(other)
    assert accepted == []


def test_ogg_crc_matches_a_known_value() -> None:
    # CRC-32/POSIX (same polynomial, init 0, unreflected) checks 0x765E7680 after its final xor.
    assert ogg_crc(b"") == 0
    assert ogg_crc(b"123456789") == 0x89A1897F
    assert zlib.crc32(b"123456789") != ogg_crc(b"123456789")


# --- sniffing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mime_type", MIME_TYPES)
def test_sniff_mime_identifies_each_sample(mime_type: str) -> None:
    found = sniff_mime(data_of(mime_type))
    if mime_type in TEXT_TYPES:
        assert found in ("text/plain", None)
    else:
        assert found == SNIFF_ALIASES.get(mime_type, mime_type)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", None),
        (b"\x00\x01\x02\x03 not anything", None),
        (bytes(range(256)), None),
        (b"RIFF\x00\x00\x00\x00XYZW", None),
        (b"\x1a\x45\xdf\xa3\x8b\x42\x82\x88matroska", None),
        (b"\x00\x00\x00\x14ftypavif\x00\x00\x00\x00avif", None),
        (b"\x00\x00\x00\x14ftypM4A \x00\x00\x00\x00M4A ", None),
        (b"\x00\x00\x00\x14ftyp3g2a\x00\x00\x00\x003g2a", "video/3gpp"),
        (b"\x00\x00\x00\x14ftypmp42\x00\x00\x00\x00mp42", "video/mp4"),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x10mdat", "video/mov"),
        (b"\xff\xfb\x00\x00", None),  # Layer III sync with a free-format bitrate
        (b"\xff\xfd\x90\x00", None),  # Layer II: MPEG audio, but not MP3
        (b"\xef\xbb\xbfplain text\n", "text/plain"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", None),
    ],
)
def test_sniff_mime_on_other_bytes(data: bytes, expected: str | None) -> None:
    assert sniff_mime(data) == expected


@pytest.mark.parametrize("mime_type", ["audio/mp3", "audio/aac"])
def test_sniff_mime_skips_an_id3_tag(mime_type: str) -> None:
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\0" * 10
    assert sniff_mime(tag + data_of(mime_type)) == mime_type


def test_sniff_mime_reports_a_mislabelled_file() -> None:
    assert sniff_mime(data_of("image/png")) != "image/jpeg"
    assert sniff_mime(data_of("video/webm")) != "video/mp4"


# --- reproducibility ----------------------------------------------------------------------------


def test_make_media_check_reproduces_the_manifest() -> None:
    missing = [tool for tool in ("ffmpeg", "espeak-ng") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: apt-get install -y ffmpeg espeak-ng")
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "make_media.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    if done.returncode == 3:
        pytest.skip(f"installed tool versions differ from the manifest's:\n{done.stdout}")
    assert done.returncode == 0, done.stdout + done.stderr
