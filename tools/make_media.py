"""Generator of the sample media in ``media/``: one small real file per MIME type, plus its manifest.

Every file is built around one word per family (see ``WORDS``): images show the word in black on
white, audio is espeak-ng speaking it, video shows it on a solid background with the spoken word as
sound, the PDF holds it as extractable text, and the code and text files contain it.

Usage::

    python tools/make_media.py            # (re)write media/ and media/manifest.yaml
    python tools/make_media.py --check    # rebuild in a temporary directory, compare with the manifest

``--check`` exits 0 when every deterministic file is reproduced byte for byte, 1 when one differs,
2 when a needed tool is missing and 3 when the installed tool versions differ from the recorded ones
(byte identity is then not expected).

Needs: Pillow and pillow-heif (images, video frames), espeak-ng and ffmpeg (Debian packages, audio
and video), PyYAML (manifest). The PDF and the text files are written by this script alone.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
MEDIA = REPO / "conformance" / "suite" / "media"

Family = Literal["image", "audio", "video", "document", "text"]

WORDS: dict[str, str] = {
    "image": "APPLE",
    "audio": "BANANA",
    "video": "LEMON",
    "document": "PAPAYA",
    "text": "MANGO",
}
MODALITIES: dict[str, str] = {
    "image": "IMAGE",
    "audio": "AUDIO",
    "video": "VIDEO",
    "document": "DOCUMENT",
    "text": "TEXT",
}

IMAGE_SIZE = (400, 160)
VIDEO_SIZE = (160, 120)
VIDEO_FPS = 10
VIDEO_SECONDS = "1"
VIDEO_BACKGROUND = (31, 58, 147)
ESPEAK_VOICE = "en-us"
ESPEAK_SPEED = "140"

# Flags that keep ffmpeg's output free of version strings, timestamps and random ids.
FFMPEG_BITEXACT = ["-fflags", "+bitexact", "-flags", "+bitexact", "-map_metadata", "-1"]
FFMPEG_BASE = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
# Single-threaded encoders are reproducible; frame threading may not be.
VIDEO_IN = ["-loop", "1", "-framerate", str(VIDEO_FPS), "-i", "frame.png", "-i", "speech.wav"]
VIDEO_OUT = ["-t", VIDEO_SECONDS, "-af", "apad", "-threads", "1", "-pix_fmt", "yuv420p"]


class ToolMissing(RuntimeError):
    """A program or package needed to build a sample is not installed."""


@dataclass
class Workshop:
    """A scratch directory holding the shared intermediates (speech, video frame)."""

    path: Path

    def run(self, argv: Sequence[str]) -> str:
        """Run a command in the scratch directory and return it as a shell line."""
        if shutil.which(argv[0]) is None:
            raise ToolMissing(argv[0])
        subprocess.run(list(argv), cwd=self.path, check=True, capture_output=True)
        return shlex.join(argv)

    def speech(self, word: str) -> str:
        """Speak ``word`` with espeak-ng into ``speech.wav`` (22050 Hz mono s16)."""
        voice = ["-v", ESPEAK_VOICE, "-s", ESPEAK_SPEED]
        return self.run(["espeak-ng", *voice, "-w", "speech.wav", word.lower()])

    def frame(self, word: str) -> str:
        """Draw ``word`` in white on the video background into ``frame.png``."""
        draw_word(word, VIDEO_SIZE, 36, VIDEO_BACKGROUND, (255, 255, 255)).save(self.path / "frame.png")
        return f"Pillow {version('pillow')}: frame.png ({VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}, white word on blue)"


Builder = Callable[[Workshop, Path], str]


@dataclass(frozen=True)
class Spec:
    """How one sample is made: its MIME type, file name, family, builder and reproducibility."""

    mime_type: str
    file: str
    family: Family
    build: Builder
    tools: tuple[str, ...]
    deterministic: bool = True


def version(tool: str) -> str:
    """The installed version of a Debian package or Python distribution used to build samples."""
    if tool in ("pillow", "pillow-heif", "pyyaml"):
        try:
            return importlib.metadata.version(tool)
        except importlib.metadata.PackageNotFoundError:
            return "absent"
    if shutil.which("dpkg-query"):
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", tool], capture_output=True, text=True, check=False
        )
        if done.returncode == 0 and done.stdout:
            return done.stdout.strip()
    if shutil.which(tool) is None:
        return "absent"
    first = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout
    return first.splitlines()[0].strip() if first else "unknown"


def draw_word(
    word: str,
    size: tuple[int, int],
    font_size: int,
    background: tuple[int, int, int],
    ink: tuple[int, int, int],
) -> Image.Image:
    """An RGB Pillow image with ``word`` centred, in Pillow's bundled font (no system fonts)."""
    font = ImageFont.load_default(size=font_size)
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), word, font=font)
    x = (size[0] - (right - left)) // 2 - left
    y = (size[1] - (bottom - top)) // 2 - top
    draw.text((x, y), word, font=font, fill=ink)
    return image


# --- images -------------------------------------------------------------------------------------


def word_image() -> Image.Image:
    """The image family's picture: the word in black on white."""
    return draw_word(WORDS["image"], IMAGE_SIZE, 96, (255, 255, 255), (0, 0, 0))


def build_png(_: Workshop, out: Path) -> str:
    word_image().save(out, format="PNG", optimize=True)
    return f"Pillow {version('pillow')}: PNG, optimize=True"


def build_jpeg(_: Workshop, out: Path) -> str:
    word_image().save(out, format="JPEG", quality=85)
    return f"Pillow {version('pillow')}: JPEG, quality=85"


def build_webp(_: Workshop, out: Path) -> str:
    word_image().save(out, format="WEBP", lossless=True, method=6)
    return f"Pillow {version('pillow')}: WebP, lossless=True, method=6"


def heif_bytes(quality: int) -> bytes:
    """The word image encoded by pillow-heif (libheif + x265), brand ``heic``."""
    import io

    try:
        import pillow_heif
    except ImportError as error:
        raise ToolMissing("pillow-heif") from error
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    word_image().save(buffer, format="HEIF", quality=quality)
    return buffer.getvalue()


def build_heic(_: Workshop, out: Path) -> str:
    out.write_bytes(heif_bytes(60))
    return f"pillow-heif {version('pillow-heif')} (libheif, x265): HEIF/HEVC, quality=60, major brand heic"


def build_heif(_: Workshop, out: Path) -> str:
    data = bytearray(heif_bytes(50))
    # Same HEVC still image, declared by the generic HEIF image brand: major brand mif1.
    if data[4:8] != b"ftyp" or b"mif1" not in data[16 : int.from_bytes(data[0:4], "big")]:
        raise RuntimeError("unexpected ftyp from pillow-heif")
    data[8:12] = b"mif1"
    out.write_bytes(bytes(data))
    return (
        f"pillow-heif {version('pillow-heif')} (libheif, x265): HEIF/HEVC, quality=50, "
        "ftyp major brand rewritten heic -> mif1"
    )


# --- audio --------------------------------------------------------------------------------------


def audio_builder(options: str) -> Builder:
    """A builder that speaks the audio word and encodes it with ffmpeg using the output ``options``."""
    codec = options.split()

    def build(shop: Workshop, out: Path) -> str:
        said = shop.speech(WORDS["audio"])
        made = shop.run([*FFMPEG_BASE, "-i", "speech.wav", *FFMPEG_BITEXACT, *codec, out.name])
        return f"espeak-ng {version('espeak-ng')}, ffmpeg {version('ffmpeg')}: {said}; {made}"

    return build


# --- video --------------------------------------------------------------------------------------


def video_builder(options: str) -> Builder:
    """A builder that shows the video word for one second with ffmpeg, audio = the spoken word."""
    codec = options.split()

    def build(shop: Workshop, out: Path) -> str:
        drawn = shop.frame(WORDS["video"])
        said = shop.speech(WORDS["video"])
        made = shop.run([*FFMPEG_BASE, *VIDEO_IN, *FFMPEG_BITEXACT, *VIDEO_OUT, *codec, out.name])
        return f"{drawn}; espeak-ng {version('espeak-ng')}: {said}; ffmpeg {version('ffmpeg')}: {made}"

    return build


H264_AAC = "-c:v libx264 -preset veryslow -crf 30 -c:a aac -b:a 32k"


# --- document and text --------------------------------------------------------------------------


def pdf_document(word: str) -> bytes:
    """A one-page PDF 1.4 showing ``word`` as real text in the standard Helvetica font."""
    content = f"BT /F1 48 Tf 36 52 Td ({word}) Tj ET\n".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Title (" + word.encode("ascii") + b") /Producer (tools/make_media.py) >>",
    ]
    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        body += b"%010d 00000 n \n" % offset
    body += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    body += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(body)


def build_pdf(_: Workshop, out: Path) -> str:
    out.write_bytes(pdf_document(WORDS["document"]))
    return "tools/make_media.py pdf_document(): hand-written PDF 1.4, Helvetica text"


W = WORDS["text"]
TEXTS: dict[str, str] = {
    "text/plain": f"{W}\n",
    "text/html": (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{W}</title>\n</head>\n<body>\n<p>{W}</p>\n</body>\n</html>\n"
    ),
    "text/css": f'/* {W} */\nbody::before {{\n  content: "{W}";\n  font-weight: bold;\n}}\n',
    "text/md": f"# {W}\n\nThe word of this document is **{W}**.\n",
    "text/csv": f"id,word\r\n1,{W}\r\n",
    "text/xml": f'<?xml version="1.0" encoding="UTF-8"?>\n<sample>\n  <word>{W}</word>\n</sample>\n',
    "text/rtf": "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Helvetica;}}\\f0\\fs48 " + W + "\\par\n}\n",
    "text/javascript": f'console.log("{W}");\n',
    "application/x-javascript": f'const word = "{W}";\nconsole.log(word);\n',
    "text/x-python": f'print("{W}")\n',
    "application/x-python": (
        f'"""Print the sample word."""\n\n\ndef word() -> str:\n    return "{W}"\n\n\n'
        'if __name__ == "__main__":\n    print(word())\n'
    ),
}


def text_builder(mime_type: str) -> Builder:
    """A builder that writes the fixed UTF-8 text for ``mime_type``."""

    def build(_: Workshop, out: Path) -> str:
        out.write_bytes(TEXTS[mime_type].encode("utf-8"))
        return "tools/make_media.py: fixed UTF-8 text"

    return build


PIL_TOOLS = ("pillow",)
HEIF_TOOLS = ("pillow", "pillow-heif")
# ffmpeg's own encoders are versioned with it; these Debian libraries bring the external ones.
CODEC_LIBRARIES = ("libx264-164", "libvpx7", "libmp3lame0", "libvorbis0a")
AUDIO_TOOLS = ("espeak-ng", "ffmpeg", *CODEC_LIBRARIES)
VIDEO_TOOLS = ("pillow", "espeak-ng", "ffmpeg", *CODEC_LIBRARIES)

SPECS: tuple[Spec, ...] = (
    Spec("image/png", "image-png.png", "image", build_png, PIL_TOOLS),
    Spec("image/jpeg", "image-jpeg.jpg", "image", build_jpeg, PIL_TOOLS),
    Spec("image/webp", "image-webp.webp", "image", build_webp, PIL_TOOLS),
    Spec("image/heic", "image-heic.heic", "image", build_heic, HEIF_TOOLS),
    Spec("image/heif", "image-heif.heif", "image", build_heif, HEIF_TOOLS),
    Spec("audio/wav", "audio-wav.wav", "audio", audio_builder("-c:a pcm_s16le -f wav"), AUDIO_TOOLS),
    Spec(
        "audio/mp3",
        "audio-mp3.mp3",
        "audio",
        audio_builder("-ar 44100 -c:a libmp3lame -b:a 64k -id3v2_version 0 -f mp3"),
        AUDIO_TOOLS,
    ),
    Spec("audio/aiff", "audio-aiff.aiff", "audio", audio_builder("-c:a pcm_s16be -f aiff"), AUDIO_TOOLS),
    Spec("audio/aac", "audio-aac.aac", "audio", audio_builder("-c:a aac -b:a 48k -f adts"), AUDIO_TOOLS),
    Spec("audio/ogg", "audio-ogg.ogg", "audio", audio_builder("-c:a libvorbis -q:a 2 -f ogg"), AUDIO_TOOLS),
    Spec("audio/flac", "audio-flac.flac", "audio", audio_builder("-c:a flac -f flac"), AUDIO_TOOLS),
    Spec("video/mp4", "video-mp4.mp4", "video", video_builder(f"{H264_AAC} -f mp4"), VIDEO_TOOLS),
    Spec(
        "video/mpeg",
        "video-mpeg.mpeg",
        "video",
        video_builder("-r 25 -c:v mpeg1video -b:v 200k -ar 44100 -c:a mp2 -b:a 64k -f mpeg"),
        VIDEO_TOOLS,
    ),
    Spec("video/mov", "video-mov.mov", "video", video_builder(f"{H264_AAC} -f mov"), VIDEO_TOOLS),
    Spec(
        "video/avi",
        "video-avi.avi",
        "video",
        video_builder("-c:v mpeg4 -q:v 8 -c:a libmp3lame -b:a 32k -f avi"),
        VIDEO_TOOLS,
    ),
    Spec(
        "video/x-flv",
        "video-x-flv.flv",
        "video",
        video_builder("-c:v flv -q:v 8 -c:a libmp3lame -b:a 32k -f flv"),
        VIDEO_TOOLS,
    ),
    Spec(
        "video/mpg",
        "video-mpg.mpg",
        "video",
        video_builder("-r 25 -c:v mpeg2video -b:v 200k -ar 48000 -c:a mp2 -b:a 64k -f vob"),
        VIDEO_TOOLS,
    ),
    Spec(
        "video/webm",
        "video-webm.webm",
        "video",
        video_builder("-c:v libvpx -b:v 100k -deadline good -cpu-used 0 -c:a libvorbis -q:a 2 -f webm"),
        VIDEO_TOOLS,
    ),
    Spec(
        "video/wmv",
        "video-wmv.wmv",
        "video",
        video_builder("-c:v wmv2 -q:v 8 -c:a wmav2 -b:a 32k -f asf"),
        VIDEO_TOOLS,
    ),
    Spec(
        "video/3gpp",
        "video-3gpp.3gp",
        "video",
        video_builder("-c:v mpeg4 -q:v 8 -c:a aac -b:a 32k -f 3gp"),
        VIDEO_TOOLS,
    ),
    Spec("application/pdf", "application-pdf.pdf", "document", build_pdf, ()),
    *(
        Spec(mime_type, mime_type.replace("/", "-") + extension, "text", text_builder(mime_type), ())
        for mime_type, extension in (
            ("application/x-javascript", ".js"),
            ("text/javascript", ".js"),
            ("application/x-python", ".py"),
            ("text/x-python", ".py"),
            ("text/plain", ".txt"),
            ("text/html", ".html"),
            ("text/css", ".css"),
            ("text/md", ".md"),
            ("text/csv", ".csv"),
            ("text/xml", ".xml"),
            ("text/rtf", ".rtf"),
        )
    ),
)
ALL_TOOLS = ("ffmpeg", *CODEC_LIBRARIES, "espeak-ng", "pillow", "pillow-heif")


def sha256(path: Path) -> str:
    """The hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_all(out_dir: Path) -> list[dict[str, object]]:
    """Build every sample into ``out_dir`` and return the manifest entries, in ``SPECS`` order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, object]] = []
    for spec in SPECS:
        with tempfile.TemporaryDirectory(prefix="make_media-") as scratch:
            shop = Workshop(Path(scratch))
            made_with = spec.build(shop, shop.path / spec.file)
            target = out_dir / spec.file
            shutil.move(shop.path / spec.file, target)
        entries.append(
            {
                "file": spec.file,
                "mime_type": spec.mime_type,
                "family": spec.family,
                "modality": MODALITIES[spec.family],
                "word": WORDS[spec.family],
                "bytes": target.stat().st_size,
                "sha256": sha256(target),
                "deterministic": spec.deterministic,
                "made_with": made_with,
            }
        )
    return entries


def tool_versions() -> dict[str, str]:
    """The versions of every tool the samples depend on, as recorded in the manifest."""
    return {tool: version(tool) for tool in ALL_TOOLS}


def manifest_text(entries: list[dict[str, object]], tools: dict[str, str]) -> str:
    """The manifest as YAML: generator, tools, words, then one entry per file."""
    document = {
        "generator": "tools/make_media.py",
        "note": "Words are compared case-insensitively; audio and video speak them in lower case.",
        "tools": tools,
        "words": WORDS,
        "files": entries,
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)


README = """\
# Sample media

One small, real file per MIME type that the suite sends to gateways, built around one word per
family so that a model can report it back (compare case-insensitively):

| family | word | what it is |
| --- | --- | --- |
| image | {image} | the word in black on white, {iw}x{ih} |
| audio | {audio} | espeak-ng ({voice}) speaking the word, about 1 s, 22050 Hz mono (MP3 at 44100 Hz) |
| video | {video} | the word in white on blue, {vw}x{vh}, 1 s, with the spoken word as sound |
| document | {document} | a one-page PDF with the word as extractable Helvetica text |
| text | {text} | code and text files (Python, JavaScript, HTML, CSS, Markdown, CSV, XML, RTF, plain) |

`manifest.yaml` lists every file with its MIME type, family, modality (as Gemini reports it in
`promptTokensDetails`), word, size, SHA-256, whether it is byte-deterministic, and how it was made.

## Provenance

Everything here is generated by `tools/make_media.py`; nothing was downloaded. Made on {system}
with these versions (Debian packages, and Python distributions for Pillow and pillow-heif):

{tools}

The Debian packages are `ffmpeg` and `espeak-ng` (`apt-get install -y ffmpeg espeak-ng`), which
bring the codec libraries listed; Pillow and pillow-heif come from PyPI. Pillow's bundled Aileron
font draws the words, so no system font is used. ffmpeg runs with
`-fflags +bitexact -flags +bitexact -map_metadata -1` and single-threaded encoders, so no
timestamps, random ids or version strings enter the files.

## Regenerate

    python tools/make_media.py           # rewrite media/ and this README
    python tools/make_media.py --check   # rebuild elsewhere and compare with manifest.yaml

With the same tool versions every file is reproduced byte for byte{nondeterministic}.
Other versions of ffmpeg, x264, libvpx, LAME, x265 or Pillow produce valid but different bytes;
`--check` then reports the version difference instead of a mismatch.
`tests/test_media.py` checks each file with a real decoder or by its container structure.

## Formats

- `video/mpeg` is an MPEG-1 program stream (mpeg1video + MP2), `video/mpg` an MPEG-2 program
  stream (DVD/VOB flavour, mpeg2video + MP2); `sniff_mime` calls both `video/mpeg`.
- `video/mp4` (brand `isom`, H.264 + AAC), `video/mov` (brand `qt  `, H.264 + AAC) and
  `video/3gpp` (brand `3gp4`, MPEG-4 Part 2 + AAC) are told apart by their `ftyp` brand.
- `image/heic` has major brand `heic`; `image/heif` is the same kind of HEVC still image with the
  generic major brand `mif1`.
- `video/avi`: MPEG-4 Part 2 + MP3; `video/x-flv`: Sorenson H.263 + MP3; `video/webm`: VP8 +
  Vorbis; `video/wmv`: ASF with WMV2 + WMA2.
- `audio/mp3` is MPEG-1 Layer III at 44100 Hz without an ID3 tag; `audio/aac` is ADTS AAC-LC;
  `audio/ogg` is Ogg Vorbis; `audio/aiff` is FORM/AIFF with 16-bit PCM.
"""


def system() -> str:
    """The operating system the samples were made on, e.g. ``Debian 12.11``."""
    debian = Path("/etc/debian_version")
    if debian.is_file():
        return f"Debian {debian.read_text(encoding='utf-8').strip()}"
    return sys.platform


def readme_text(tools: dict[str, str]) -> str:
    """The README of media/, with the words and the tool versions filled in."""
    loose = [spec.file for spec in SPECS if not spec.deterministic]
    nondeterministic = f", except {', '.join(loose)} (`deterministic: false`)" if loose else ""
    return README.format(
        **WORDS,
        iw=IMAGE_SIZE[0],
        ih=IMAGE_SIZE[1],
        vw=VIDEO_SIZE[0],
        vh=VIDEO_SIZE[1],
        voice=ESPEAK_VOICE,
        system=system(),
        tools="\n".join(f"- {tool}: {value}" for tool, value in tools.items()),
        nondeterministic=nondeterministic,
    )


def generate(out_dir: Path) -> None:
    """Build all samples into ``out_dir`` and write its manifest and README."""
    tools = tool_versions()
    entries = build_all(out_dir)
    (out_dir / "manifest.yaml").write_text(manifest_text(entries, tools), encoding="utf-8")
    (out_dir / "README.md").write_text(readme_text(tools), encoding="utf-8")
    total = sum(int(entry["bytes"]) for entry in entries)  # type: ignore[call-overload]
    print(f"wrote {len(entries)} files, {total} bytes, to {out_dir}")


def check(media_dir: Path) -> int:
    """Rebuild every sample elsewhere and compare the deterministic ones with the manifest."""
    manifest = yaml.safe_load((media_dir / "manifest.yaml").read_text(encoding="utf-8"))
    recorded: dict[str, str] = manifest["tools"]
    current = tool_versions()
    by_file = {entry["file"]: entry for entry in manifest["files"]}
    with tempfile.TemporaryDirectory(prefix="make_media-check-") as scratch:
        try:
            entries = build_all(Path(scratch))
        except ToolMissing as missing:
            print(f"cannot check: {missing} is not installed")
            return 2
    differs = versions = False
    for spec, entry in zip(SPECS, entries, strict=True):
        old = by_file.get(spec.file)
        changed = [tool for tool in spec.tools if recorded.get(tool) != current[tool]]
        if old is None:
            print(f"MISSING  {spec.file}: not in the manifest")
            differs = True
        elif not old.get("deterministic", True):
            print(f"skip     {spec.file}: not byte-deterministic")
        elif entry["sha256"] == old["sha256"]:
            print(f"ok       {spec.file}")
        elif changed:
            print(f"versions {spec.file}: {', '.join(changed)} differ from the manifest")
            versions = True
        else:
            print(f"DIFFERS  {spec.file}: {entry['sha256']} != {old['sha256']}")
            differs = True
    return 1 if differs else 3 if versions else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="rebuild elsewhere, compare with the manifest")
    parser.add_argument("--media", type=Path, default=MEDIA, help="the media directory (default: media/)")
    args = parser.parse_args(argv)
    if args.check:
        return check(args.media)
    try:
        generate(args.media)
    except ToolMissing as missing:
        print(f"cannot generate: {missing} is not installed", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
