"""The seams of the reference gateway: the named points where a fault changes a value on its way.

A seam is a place in the request's path through the reference (the decoded request, the usage block,
the stream events, the error...) where the handler calls ``active.apply(SEAM, value, call)`` and uses
what comes back. Each active fault that plugs into that seam gets the value and the ``Call`` (what the
handler knows of the request) and returns the value as the faulty gateway would have it; a clean
reference returns every value unchanged. Faults at one seam are applied in registry order (the areas in
the order ``registry.AREAS`` lists them, then definition order in each area module); most commute, and
an area module says where one must follow another.

``SEAMS`` below is the whole set, each with the value that flows through it and where it is applied. The
small value types that exist only to be passed through a seam (``Call``, ``Forwarded``, ``Usage``,
``Framing``, ``ErrorBody``, ``Outbound``, ``Inbound``) live here too.

The forwarding reference (``conformance serve --forward-to``, ``reference/forward.py``) applies the seams
of the forwarding area (``outbound``, ``inbound``, ``upstream_event``, ``reply_headers``) and a few shared
ones (``credentials``, ``framing``, ``error``, ``response``); the seams of the model's answer are the
upstream's there, so only faults of the ``forwarding`` area apply to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from conformance.reference.model.catalogue import Catalogue, ModelInfo
    from conformance.reference.model.engine import Generation, Prompt, Sampling
    from conformance.reference.model.features import Features
    from conformance.reference.protocols.auth import Credentials
    from conformance.reference.protocols.errors import GoogleError, OpenAIError
    from conformance.reference.protocols.gemini_request import ParseMode

Protocol = Literal["gemini", "openai"]
Method = Literal[
    "models.list",
    "models.get",
    "generateContent",
    "streamGenerateContent",
    "countTokens",
    "chat.completions",
    "cachedContents.create",
    "cachedContents.get",
    "cachedContents.delete",
]
FramingMode = Literal["json", "json-array", "sse"]

T = TypeVar("T")
C = TypeVar("C")


@dataclass(frozen=True, eq=False)
class Seam(Generic[T, C]):
    """A named point of the reference where faults change a value of type ``T``, given a context ``C``."""

    name: str
    value: str
    where: str

    def __repr__(self) -> str:
        return f"<seam {self.name}>"


@dataclass(frozen=True)
class Call:
    """What a seam knows of the request being answered: its protocol and method, and what came of it.

    ``method`` is None for an error before the method was known (an unknown route). ``stream`` and
    ``include_usage`` are what an OpenAI request asked (a native stream is ``streamGenerateContent``);
    ``generation`` is the model's answer once there is one.
    """

    protocol: Protocol
    catalogue: Catalogue
    method: Method | None = None
    stream: bool = False
    include_usage: bool = False
    generation: Generation | None = None


@dataclass(frozen=True)
class Forwarded:
    """What the gateway hands the model: the conversation, the sampling, the features beyond text, and
    the contents in native form that the function-turn rules check (the OpenAI messages translated)."""

    prompt: Prompt
    sampling: Sampling
    features: Features
    contents: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Usage:
    """The token counts a response reports, before they are rendered in the protocol's usage block.

    ``total`` is what the response says the total is; ``tool_use`` the prompt tokens tools fetched
    (search results, retrieved URLs), ``cached`` the part of ``prompt`` read from a cache. OpenAI's
    completion tokens are ``output`` + ``thoughts`` (the reasoning tokens).
    """

    prompt: int
    output: int
    thoughts: int
    total: int
    tool_use: int = 0
    cached: int = 0


@dataclass(frozen=True)
class ErrorBody:
    """An error answer as it goes on the wire: the HTTP status and the JSON body."""

    http_status: int
    body: Any


@dataclass(frozen=True)
class Framing:
    """How a success answer goes on the wire, and when.

    ``mode``: one JSON document, Google's JSON array, or SSE events. ``content_type`` None is the mode's
    own label. The rest shapes SSE: the line end, an ``event: message`` line before each ``data:`` line,
    a final ``data: [DONE]`` event, the blank line ending the last event; ``buffered`` holds every frame
    back until the time the whole answer took, then sends them at once.
    """

    mode: FramingMode
    content_type: str | None = None
    eol: bytes = b"\r\n"
    event_line: bool = False
    done: bool = False
    terminated: bool = True
    buffered: bool = False


@dataclass(frozen=True)
class Outbound:
    """A request the forwarding reference sends upstream: the method, the path under the upstream's base URL
    (``/v1beta/models/m:generateContent``), the query, the headers (the upstream's key among them) and the
    body: ``body`` when it is JSON the gateway built or changed, else ``raw``, the client's bytes as they
    came (a transparent pass-through)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = None
    raw: bytes = b""
    client_headers: tuple[tuple[str, str], ...] = ()
    """The headers the client sent the gateway (what a careless gateway copies upstream)."""
    client_query: tuple[tuple[str, str], ...] = ()
    """The query the client sent, its ``key`` included."""

    def json(self) -> Any:
        """The JSON body: ``body``, else the raw bytes parsed (None when they are not JSON)."""
        if self.body is not None:
            return self.body
        try:
            return json.loads(self.raw.decode("utf-8")) if self.raw.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None

    def payload(self) -> bytes:
        """The bytes sent: ``body`` as JSON when there is one, else ``raw``."""
        if self.body is None:
            return self.raw
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")

    def with_header(self, name: str, value: str | None) -> Outbound:
        """The same request with header ``name`` set to ``value`` (removed when None)."""
        kept = tuple((k, v) for k, v in self.headers if k.lower() != name.lower())
        return replace(self, headers=kept + (((name, value),) if value is not None else ()))


@dataclass(frozen=True)
class Inbound:
    """The upstream's answer as the forwarding reference received it: status, headers and body (a streamed
    200's events flow through ``upstream_event`` instead)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None


ASGI: Seam[ASGIApp, None] = Seam(
    "asgi",
    "the ASGI application that is about to handle an HTTP request (the whole gateway behind the faults)",
    "app.FaultSeam, the outermost middleware, once per HTTP request; a fault may answer first",
)
CREDENTIALS: Seam[Credentials, Call] = Seam(
    "credentials",
    "the API keys the request presents (query, x-goog-api-key, Bearer), before they are checked",
    "require_key of gemini.py and openai.py, before every other check of a request",
)
REQUEST: Seam[Any, Call] = Seam(
    "request",
    "the decoded request: the JSON body of a POST (before it is parsed), the query of native models.list",
    "gemini.model_route and gemini.stream_generate_content (bodies), gemini.list_models (the query),"
    " openai.chat_completions; a fault may raise ProtocolError",
)
PARSE_MODE: Seam[ParseMode, Call] = Seam(
    "parse_mode",
    "how leniently the request is read: snake_case accepted, strict validation, tool schemas sanitized",
    "gemini.parse_mode (generateContent, streamGenerateContent, countTokens), openai.chat_completions",
)
MODEL: Seam[ModelInfo | None, Call] = Seam(
    "model",
    "the catalogue's model for the model the request names (None: unknown, answered 404)",
    "gemini.serving_model and openai.chat_completions",
)
FORWARDED: Seam[Forwarded, Call] = Seam(
    "forwarded",
    "what the gateway hands the model: prompt, sampling, features, contents (see Forwarded)",
    "gemini.answer_request and gemini.count_tokens, openai.chat_completions; before the function turns"
    " are checked",
)
GENERATION: Seam[Generation, Call] = Seam(
    "generation",
    "the model's answer (candidates with text, thoughts, code and function calls), as passed back",
    "gemini.answer_request and openai.chat_completions, right after the model answered",
)
USAGE: Seam[Usage, Call] = Seam(
    "usage",
    "the token counts the response reports (see Usage)",
    "render_usage of gemini.py and openai.py, before the usage block is rendered",
)
RESPONSE: Seam[dict[str, Any], Call] = Seam(
    "response",
    "the JSON body of a success answer as the gateway builds it (canonical keys), before it is encoded"
    " or cut into stream events; call.generation holds the answer it renders",
    "every success handler of gemini.py and openai.py",
)
TEXT_DELTAS: Seam[list[str], Call] = Seam(
    "text_deltas",
    "the successive pieces a streamed text part is sent in (deltas that join back to the text)",
    "streaming.text_deltas, which native_stream and openai_stream cut each streamed text part with",
)
STREAM_EVENTS: Seam[list[dict[str, Any]], Call] = Seam(
    "stream_events",
    "the events a streamed answer is cut into: GenerateContentResponses (native), chat.completion.chunk"
    " objects (OpenAI)",
    "streaming.native_stream (unless a blocked prompt leaves nothing to cut) and streaming.openai_stream,"
    " before each event is written",
)
DOCUMENT: Seam[Any, Call] = Seam(
    "document",
    "each JSON document of a success answer as it is written: a whole body, or one stream event",
    "success of gemini.py and openai.py (a whole body), streaming.native_stream and openai_stream (each"
    " event)",
)
FRAMES: Seam[list[bytes], Call] = Seam(
    "frames",
    "the bytes of a streamed answer, one item per event (SSE event or JSON-array element), as they go on the"
    " wire",
    "streaming.native_stream and streaming.openai_stream, just before the frames are sent",
)
FRAMING: Seam[Framing, Call] = Seam(
    "framing",
    "how a success answer goes on the wire (see Framing)",
    "success of gemini.py and openai.py (mode json), gemini.stream_generate_content and"
    " openai.chat_completions (a stream; a native stream framed json is then answered by gemini.success)",
)
ERROR: Seam[GoogleError | OpenAIError, Call] = Seam(
    "error",
    "an error answer (google.rpc.Status or OpenAI's ErrorResponse with its HTTP status), before it is"
    " rendered",
    "render_error of gemini.py and openai.py (so every error, 404s of unknown routes included)",
)
ERROR_BODY: Seam[ErrorBody, Call] = Seam(
    "error_body",
    "an error answer's JSON body as rendered from the error (google.rpc.Status or OpenAI's ErrorResponse)"
    " with its HTTP status, before it is encoded (see ErrorBody)",
    "render_error of gemini.py and openai.py, after the ``error`` seam",
)
STREAM_ERROR: Seam[GoogleError | OpenAIError | None, Call] = Seam(
    "stream_error",
    "an error met while preparing a streamed answer; None hides it behind a 200 with an empty stream",
    "gemini.stream_generate_content (any error), openai.chat_completions (reading the request and the"
    " model, when it asks to stream)",
)

OUTBOUND: Seam[Outbound, Call] = Seam(
    "outbound",
    "the request the forwarding reference sends upstream (see Outbound), translated and with the upstream's"
    " key, before it is sent",
    "forward.native_forward (the pass-through) and forward.chat_forward (the OpenAI translation)",
)
INBOUND: Seam[Inbound, Call] = Seam(
    "inbound",
    "the upstream's answer as received (see Inbound), before it is passed on (native) or translated"
    " (OpenAI); a streamed 200 only when it is relayed whole",
    "forward.native_forward and forward.chat_forward, for every answer that is not a streamed 200",
)
UPSTREAM_EVENT: Seam[Any, Call] = Seam(
    "upstream_event",
    "one event of the upstream's streamed answer (a GenerateContentResponse, or an error body), before the"
    " OpenAI route translates it",
    "forward.translate_stream, on the OpenAI route's streams (before translation.ChunkTranslator.feed)",
)


@dataclass(frozen=True)
class ReplyHeaders:
    """The headers the forwarding reference adds to an answer, and the upstream URL it forwarded to (which
    a gateway that leaks its configuration reveals)."""

    headers: tuple[tuple[str, str], ...]
    upstream: str


REPLY_HEADERS: Seam[ReplyHeaders, Call] = Seam(
    "reply_headers",
    "the headers the forwarding reference adds to its answer beyond the Content-Type (see ReplyHeaders)",
    "forward.native_forward and forward.chat_forward, on every answer that came from the upstream",
)

SEAMS: dict[str, Seam[Any, Any]] = {
    seam.name: seam
    for seam in (
        ASGI,
        CREDENTIALS,
        REQUEST,
        PARSE_MODE,
        MODEL,
        FORWARDED,
        GENERATION,
        USAGE,
        RESPONSE,
        TEXT_DELTAS,
        STREAM_EVENTS,
        DOCUMENT,
        FRAMES,
        FRAMING,
        ERROR,
        ERROR_BODY,
        STREAM_ERROR,
        OUTBOUND,
        INBOUND,
        UPSTREAM_EVENT,
        REPLY_HEADERS,
    )
}
