"""The deterministic "model" behind the reference gateway.

It answers from a tiny, documented prompt vocabulary that real models also follow, so the
same cases can run against the reference and against a real gateway:

* Instructions are looked for first in the system instruction, then in the text of the last
  user turn. Matching is case-insensitive.
* ``Reply with exactly: <X>`` answers X: the rest of that line, with surrounding whitespace
  trimmed (punctuation is kept).
* ``Count from <a> to <b>`` answers ``"a, a+1, ..., b"`` (integers joined by ``", "``; counting
  down when a > b; at most 1000 numbers).
* If the last user turn asks ``What is the code word?``, the answer is the WORD of the most
  recent earlier turn (user or model) containing ``The code word is <WORD>``.
* If the last user turn asks ``Which fruit`` (or ``Which fruits``), the answer is the words read
  from the media of the last user turn that has media (the last user turn itself, or an earlier one
  in the history), in order, duplicates dropped, joined by ``", "``; ``I cannot tell.`` when that
  media cannot be read, and ``I see no media.`` when there is none. The media samples each carry
  one fruit (``media/README.md``); what a part reads as is decided by ``media_input``.
* ``Calculate <expression>`` (integers, ``+ - * / // % **`` and parentheses) answers the value.
* Otherwise the answer is ``You said: <last user text>`` (text parts joined by a newline).

* ``Recite <title>`` naming a text the engine knows (``RECITABLE``: the United States Declaration of
  Independence) answers that text, cited: ``citationMetadata.citationSources`` gives its byte span and
  the source's URI.

Triggers, tools, structured output, safety, thinking and the other features (``responder.py`` applies
them, in this order):

* The five trigger prompts (``triggers.py``; cases use them as ``{trigger:NAME}``): a user turn holding
  ``CONFORMANCE-TRIGGER-RATE-LIMIT`` is answered 429 RESOURCE_EXHAUSTED (google.rpc with QuotaFailure,
  Help and RetryInfo; OpenAI: the error object, type ``requests``, code ``rate_limit_exceeded``),
  ``CONFORMANCE-TRIGGER-OVERLOADED`` 503 UNAVAILABLE ("The model is overloaded."),
  ``CONFORMANCE-TRIGGER-SERVER-ERROR`` 500 INTERNAL, each with ``Retry-After`` (the gateway's
  ``retry_after`` seconds: 1 for ``conformance serve``, 0 in the embedded runs). A prompt containing
  ``CONFORMANCE-TRIGGER-PROMPT-BLOCK`` is blocked at prompt level
  (``promptFeedback.blockReason: PROHIBITED_CONTENT``, no candidates); one containing
  ``CONFORMANCE-TRIGGER-ANSWER-BLOCK`` gets a HARASSMENT rating of MEDIUM probability, so the
  candidate is blocked (``finishReason: SAFETY``, ``content: {}``; OpenAI ``finish_reason:
  content_filter``) unless ``safetySettings`` sets HARASSMENT to ``BLOCK_ONLY_HIGH``, ``BLOCK_NONE`` or
  ``OFF`` (``safety.py``).
* Function calling (declared functions, mode AUTO unless ``toolConfig`` / ``tool_choice`` says
  otherwise): ``Use the <name> tool`` (or ``function``) naming a declared, allowed function makes a
  call of it in AUTO, ANY and VALIDATED modes; ANY and VALIDATED call the first allowed function when
  none is named; NONE never calls. One call is made per place named as ``in <Place>`` (a capitalised
  word or words: ``What is the weather in Paris and in London?`` makes two parallel calls), the
  place filling the first string parameter; every other argument is a deterministic instance of its
  declared schema (``instances.py``). Calls carry an ``id`` and the first call of a turn carries a
  ``thoughtSignature`` (Gemini 3 style); a later turn replaying that call without the signature is
  refused with 400, as Gemini 3 does (``function_turns.py``).
* A last user turn of function responses (and AUTO mode) is answered with
  ``<name> returned <response as compact JSON>`` per response, joined by ``; ``.
* ``Calculate <expression>`` with the ``codeExecution`` tool gives an ``executableCode`` part
  (``print(<expression>)``, PYTHON), a ``codeExecutionResult`` part (OUTCOME_OK, the value and a
  newline), then the value as text; an expression that divides by zero gives OUTCOME_FAILED with
  Python's traceback as the output, then ``The code failed: ZeroDivisionError: division by zero``.
* ``responseMimeType: application/json`` answers a deterministic instance of ``responseSchema`` /
  ``responseJsonSchema`` (or ``{"answer": <answer>}`` without a schema) as compact JSON;
  ``text/x.enum`` answers the answer when it is one of the enum values, else the first value.
* Thinking: a model that thinks by default (``catalogue.py``: 2.5 Flash and Pro, Gemini 3) thinks unless
  ``thinkingBudget`` is 0 (OpenAI: ``reasoning_effort: none``); any model thinks with
  ``includeThoughts``, a non-zero ``thinkingBudget``, a ``thinkingLevel`` or another
  ``reasoning_effort``. Thinking is one thought summary ``Thinking about the request: <last user
  text>`` counted in ``thoughtsTokenCount`` (OpenAI: ``completion_tokens_details.reasoning_tokens``,
  inside ``completion_tokens``); the thought part comes first and only with ``includeThoughts``.
  ``thinkingLevel`` with ``thinkingBudget`` is a 400, and so are ``thinkingLevel`` on a model before
  Gemini 3 and ``thinkingBudget: 0`` on a model that cannot stop thinking.
* ``responseModalities``: IMAGE on an image model adds an ``inlineData`` part (``image/png``: the media
  sample of that type, 1290 IMAGE tokens) after the answer text; AUDIO on a speech model answers with
  audio only: one ``inlineData`` part ``audio/L16;codec=pcm;rate=24000`` speaking the answer text (a
  tone of the voice chosen in ``speechConfig``, 50 ms per token, 25 AUDIO tokens a second). A modality
  the model cannot give is a 400 (``features.unsupported``); ``speechConfig`` names one of the 30
  prebuilt voices, or two speakers each with one (anything else is a 400).
* ``responseLogprobs`` (OpenAI ``logprobs``) adds the log probability of every answer token
  (``logprobsResult.chosenCandidates``, ``avgLogprobs``; OpenAI ``logprobs.content``) and, with
  ``logprobs: N`` (``top_logprobs``), the N most likely tokens at each step; the values are derived
  from the token and its position.
* The ``googleSearch`` tool grounds the answer: ``groundingMetadata`` with the search query (the last
  user text), one web source, a support spanning the answer and a search entry point; the search
  results count ``SEARCH_RESULT_TOKENS`` tool-use prompt tokens. The ``urlContext`` tool retrieves every
  http(s) URL of the last user turn: ``urlContextMetadata.urlMetadata`` lists each with
  ``URL_RETRIEVAL_STATUS_SUCCESS``, ``URL_CONTENT_TOKENS`` tool-use prompt tokens each.
* ``generationConfig.mediaResolution`` (or a part's own ``mediaResolution.level``) sets what an image,
  video or document part counts: LOW 64 tokens, MEDIUM 256, HIGH (and unset) 258.
* ``cachedContent`` names a cache made with ``POST cachedContents``: its contents (and system
  instruction) come before the request's, counted in ``promptTokenCount`` and reported as
  ``cachedContentTokenCount``; an unknown cache is 403 PERMISSION_DENIED.

Tokens are ``re.findall(r"\\w+|[^\\w\\s]", text)``. A prompt counts the tokens of every text
part of every turn and of the system instruction; structured parts (function calls and
responses, code, thoughts) count the tokens of their JSON text; each media part counts the tokens
its reader gave it: a flat 258 of its modality for images, audio, video, documents and remote files,
and the tokens of the decoded text (as TEXT) for text files.
An answer counts the tokens of its text, function calls and code (``candidatesTokenCount``, by
modality in ``candidatesTokensDetails``), plus the tokens of the images and audio it made.

Generation: the answer is cut before the first stop sequence (finish STOP) or after its N-th
token when ``maxOutputTokens`` is N (finish MAX_TOKENS), whichever comes first; a stop sequence
counts only if it lies wholly within the first N tokens. Every candidate has the same text.
The answer is kept as a list of pieces (each token with the whitespace before it), so that a
streaming renderer can send it piece by piece.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

Role = Literal["user", "model"]
Modality = Literal["TEXT", "IMAGE", "AUDIO", "VIDEO", "DOCUMENT"]
FinishReason = Literal["STOP", "MAX_TOKENS", "SAFETY"]
CodeOutcome = Literal["OUTCOME_OK", "OUTCOME_FAILED"]

TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")
MEDIA_PART_TOKENS = 258
MAX_COUNT_NUMBERS = 1000

_MODALITY_ORDER: tuple[Modality, ...] = ("TEXT", "IMAGE", "AUDIO", "VIDEO", "DOCUMENT")
_REPLY_EXACTLY = re.compile(r"reply with exactly:[ \t]*(?P<answer>[^\r\n]*)", re.IGNORECASE)
_COUNT_FROM = re.compile(r"count from\s+(?P<a>[-+]?\d+)\s+to\s+(?P<b>[-+]?\d+)", re.IGNORECASE)
_CODE_WORD_QUESTION = re.compile(r"what is the code word\s*\?", re.IGNORECASE)
_CODE_WORD_STATEMENT = re.compile(r"the code word is\s+[\"'“‘]?(?P<word>[\w-]+)", re.IGNORECASE)
_WHICH_FRUIT = re.compile(r"\bwhich fruits?\b", re.IGNORECASE)
UNREADABLE_ANSWER = "I cannot tell."
NO_MEDIA_ANSWER = "I see no media."


@dataclass(frozen=True)
class Media:
    """A media part as the model perceives it: modality, token count, and the word it shows if readable."""

    modality: Modality
    tokens: int = MEDIA_PART_TOKENS
    word: str | None = None


_CALCULATE = re.compile(r"calculate\s+(?P<expression>[-+*/%()\d\s]*\d[-+*/%()\d\s]*)", re.IGNORECASE)
MAX_EXPONENT = 64


@dataclass(frozen=True)
class Turn:
    """One turn of a conversation as the engine sees it: texts, structured data and media."""

    role: Role
    texts: tuple[str, ...] = ()
    structured: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()

    def __post_init__(self) -> None:
        # A bare modality stands for an unreadable media part of that modality.
        if any(isinstance(item, str) for item in self.media):
            media = tuple(
                Media(cast(Modality, item)) if isinstance(item, str) else item for item in self.media
            )
            object.__setattr__(self, "media", media)

    @property
    def text(self) -> str:
        """The turn's text parts joined by newlines."""
        return "\n".join(self.texts)


@dataclass(frozen=True)
class Prompt:
    """A conversation: the optional system instruction and the turns, oldest first."""

    turns: tuple[Turn, ...]
    system: Turn | None = None

    def last_user_index(self) -> int | None:
        """The index of the last user turn, or None when there is none."""
        for index in range(len(self.turns) - 1, -1, -1):
            if self.turns[index].role == "user":
                return index
        return None

    def only_last_user_turn(self) -> Prompt:
        """The same prompt with the history dropped: only the last user turn is kept."""
        index = self.last_user_index()
        turns = () if index is None else (self.turns[index],)
        return Prompt(turns=turns, system=self.system)

    def without_system(self) -> Prompt:
        """The same prompt with the system instruction dropped."""
        return Prompt(turns=self.turns, system=None)


@dataclass(frozen=True)
class Sampling:
    """The generation settings that have a visible effect on the engine's answer."""

    max_output_tokens: int | None = None
    stop_sequences: tuple[str, ...] = ()
    candidate_count: int = 1


@dataclass(frozen=True)
class ModalityCount:
    """A token count for one modality."""

    modality: Modality
    tokens: int


@dataclass(frozen=True)
class PromptCount:
    """The prompt's token count, broken down by modality (non-zero entries only, TEXT first)."""

    details: tuple[ModalityCount, ...]

    @property
    def total(self) -> int:
        """The prompt's total token count."""
        return sum(entry.tokens for entry in self.details)


@dataclass(frozen=True)
class FunctionCall:
    """A call of a declared function: name, arguments, and the Gemini 3 id and thought signature."""

    name: str
    args: Mapping[str, Any]
    id: str | None = None
    signature: str | None = None


@dataclass(frozen=True)
class CodeRun:
    """Code the model ran with the code execution tool, its output and how the run ended."""

    code: str
    output: str
    id: str | None = None
    outcome: CodeOutcome = "OUTCOME_OK"


@dataclass(frozen=True)
class GeneratedMedia:
    """An image or audio clip the model made: its MIME type, bytes, modality and the tokens it costs."""

    mime_type: str
    data: bytes
    modality: Modality
    tokens: int


@dataclass(frozen=True)
class TokenLogprob:
    """One answer token with its log probability and the most likely tokens at its step (chosen first)."""

    token: str
    token_id: int
    logprob: float
    top: tuple[tuple[str, int, float], ...] = ()


@dataclass(frozen=True)
class Citation:
    """A span of the answer text (UTF-8 byte offsets) recited from a source."""

    start: int
    end: int
    uri: str
    license: str = ""


@dataclass(frozen=True)
class Grounding:
    """How a grounded answer was grounded: the search queries and the web sources (URI, title)."""

    queries: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class UrlRetrieval:
    """A URL the model retrieved with the URL context tool, and how the retrieval went."""

    url: str
    status: str = "URL_RETRIEVAL_STATUS_SUCCESS"


@dataclass(frozen=True)
class SafetyRating:
    """A harm category's probability for a prompt or an answer, and whether it blocked it."""

    category: str
    probability: str
    blocked: bool = False


@dataclass(frozen=True)
class Completion:
    """One candidate answer: its pieces (tokens with leading whitespace) and why it ended.

    Besides the answer text a candidate may hold thought summaries (shown before the answer),
    code runs, function calls (after the text), generated images or audio and safety ratings; each is
    an ordinary part of the response, so a streaming renderer emits them like the text. Logprobs,
    citations, grounding and retrieved URLs are the candidate's metadata.
    """

    pieces: tuple[str, ...]
    finish_reason: FinishReason
    thoughts: tuple[str, ...] = ()
    calls: tuple[FunctionCall, ...] = ()
    code: tuple[CodeRun, ...] = ()
    safety_ratings: tuple[SafetyRating, ...] = ()
    thinking_tokens: int = 0
    media: tuple[GeneratedMedia, ...] = ()
    logprobs: tuple[TokenLogprob, ...] | None = None
    citations: tuple[Citation, ...] = ()
    grounding: Grounding | None = None
    urls: tuple[UrlRetrieval, ...] = ()

    @property
    def text(self) -> str:
        """The whole answer text."""
        return "".join(self.pieces)

    @property
    def blocked(self) -> bool:
        """Whether the answer was withheld for safety."""
        return self.finish_reason == "SAFETY"

    @property
    def text_token_count(self) -> int:
        """The output tokens of the answer text, function calls and code (thoughts and media apart)."""
        structured = [compact_json({"name": c.name, "args": dict(c.args)}) for c in self.calls]
        structured += [run.code + run.output for run in self.code]
        return len(tokenize(self.text)) + sum(len(tokenize(item)) for item in structured)

    @property
    def token_count(self) -> int:
        """The number of output tokens: the answer, function calls, code and generated media (thoughts
        apart)."""
        return self.text_token_count + sum(item.tokens for item in self.media)

    def details(self) -> tuple[ModalityCount, ...]:
        """The output tokens by modality (non-zero entries only, TEXT first)."""
        totals: dict[Modality, int] = {"TEXT": self.text_token_count}
        for item in self.media:
            totals[item.modality] = totals.get(item.modality, 0) + item.tokens
        return tuple(ModalityCount(m, totals[m]) for m in _MODALITY_ORDER if totals.get(m))


@dataclass(frozen=True)
class Generation:
    """The engine's result for one request: the candidates and the prompt count.

    A prompt blocked for safety has no candidates and a ``block_reason``. ``cached`` is the part of the
    prompt count read from a cache (``cachedContent``); ``tool_use_tokens`` what tools fetched for the
    model (search results, retrieved URLs).
    """

    candidates: tuple[Completion, ...]
    prompt: PromptCount
    block_reason: str | None = None
    prompt_safety_ratings: tuple[SafetyRating, ...] = ()
    cached: PromptCount | None = None
    tool_use_tokens: int = 0

    @property
    def candidates_token_count(self) -> int:
        """Tokens over all candidates."""
        return sum(candidate.token_count for candidate in self.candidates)

    @property
    def thoughts_token_count(self) -> int:
        """Thinking tokens over all candidates."""
        return sum(candidate.thinking_tokens for candidate in self.candidates)

    def candidates_details(self) -> tuple[ModalityCount, ...]:
        """The output tokens of all candidates by modality (non-zero entries only, TEXT first)."""
        totals: dict[Modality, int] = {}
        for candidate in self.candidates:
            for entry in candidate.details():
                totals[entry.modality] = totals.get(entry.modality, 0) + entry.tokens
        return tuple(ModalityCount(m, totals[m]) for m in _MODALITY_ORDER if totals.get(m))


def compact_json(value: Any) -> str:
    """A JSON value as compact text with sorted keys (how structured data is counted)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def tokenize(text: str) -> list[str]:
    """The engine's tokens of a text."""
    return TOKEN_PATTERN.findall(text)


def split_pieces(text: str) -> tuple[str, ...]:
    """Split a text into pieces, one per token, each with the whitespace before it.

    Trailing whitespace goes with the last piece, so the pieces always join back to the text.
    """
    pieces: list[str] = []
    start = 0
    for match in TOKEN_PATTERN.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        if pieces:
            pieces[-1] += text[start:]
        else:
            pieces.append(text[start:])
    return tuple(pieces)


def count_prompt(prompt: Prompt) -> PromptCount:
    """Count the tokens of a prompt, by modality."""
    totals: dict[Modality, int] = {}
    turns = ((prompt.system,) if prompt.system is not None else ()) + prompt.turns
    for turn in turns:
        text_tokens = sum(len(tokenize(text)) for text in turn.texts + turn.structured)
        if text_tokens:
            totals["TEXT"] = totals.get("TEXT", 0) + text_tokens
        for media in turn.media:
            totals[media.modality] = totals.get(media.modality, 0) + media.tokens
    details = tuple(
        ModalityCount(modality, totals[modality]) for modality in _MODALITY_ORDER if totals.get(modality)
    )
    return PromptCount(details)


def _instruction_answer(text: str) -> str | None:
    reply = _REPLY_EXACTLY.search(text)
    if reply is not None:
        return reply.group("answer").strip()
    count = _COUNT_FROM.search(text)
    if count is not None:
        first, last = int(count.group("a")), int(count.group("b"))
        step = 1 if last >= first else -1
        numbers = range(first, last + step, step)[:MAX_COUNT_NUMBERS]
        return ", ".join(str(number) for number in numbers)
    expression = calculation(text)
    if expression is not None:
        value = evaluate(expression)
        if value is not None:
            return value
    return None


def calculation(text: str) -> str | None:
    """The expression of a ``Calculate <expression>`` instruction, or None."""
    match = _CALCULATE.search(text)
    return match.group("expression").strip() if match is not None else None


_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}


def evaluate(expression: str) -> str | None:
    """The value of an integer arithmetic expression as Python prints it, or None when it is not one."""
    try:
        return evaluate_strictly(expression)
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, RecursionError):
        return None


def evaluate_strictly(expression: str) -> str:
    """The value of an integer arithmetic expression as Python prints it; raises what Python would (or
    ValueError for anything that is not integer arithmetic)."""

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            inner = value(node.operand)
            return inner if isinstance(node.op, ast.UAdd) else -inner
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Pow) and (not isinstance(right, int) or abs(right) > MAX_EXPONENT):
                raise ValueError("exponent too large")
            return _OPERATORS[type(node.op)](left, right)
        raise ValueError("not arithmetic")

    return str(value(ast.parse(expression, mode="eval").body))


RECITABLE: dict[str, tuple[str, str]] = {
    "declaration of independence": (
        "We hold these truths to be self-evident, that all men are created equal, that they are endowed by "
        "their Creator with certain unalienable Rights, that among these are Life, Liberty and the pursuit "
        "of Happiness.",
        "https://www.archives.gov/founding-docs/declaration-transcript",
    ),
}
"""Texts the engine recites when asked (``Recite <title>``): title words -> (text, the source's URI)."""
_RECITE = re.compile(r"\brecite\b", re.IGNORECASE)


def recitation(text: str) -> tuple[str, str] | None:
    """The text and source URI a ``Recite <title>`` instruction asks for, or None."""
    if not _RECITE.search(text):
        return None
    lowered = text.lower()
    return next((found for title, found in RECITABLE.items() if title in lowered), None)


def execution(expression: str) -> tuple[CodeOutcome, str] | None:
    """How ``print(<expression>)`` runs: OUTCOME_OK and the printed value, OUTCOME_FAILED and Python's
    traceback for a division by zero, None when the expression is not integer arithmetic."""
    value = evaluate(expression)
    if value is not None:
        return "OUTCOME_OK", value + "\n"
    try:
        evaluate_strictly(expression)
    except ZeroDivisionError:
        return "OUTCOME_FAILED", (
            'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n'
            "ZeroDivisionError: division by zero\n"
        )
    except (SyntaxError, ValueError, OverflowError, RecursionError):
        return None
    return None  # pragma: no cover - evaluate() succeeded above


def _code_word(turns: Sequence[Turn]) -> str | None:
    for turn in reversed(turns):
        matches = list(_CODE_WORD_STATEMENT.finditer(turn.text))
        if matches:
            return matches[-1].group("word")
    return None


def _media_words(turns: Sequence[Turn]) -> str:
    for turn in reversed(turns):
        if turn.role != "user" or not turn.media:
            continue
        words = list(dict.fromkeys(media.word for media in turn.media if media.word))
        return ", ".join(words) if words else UNREADABLE_ANSWER
    return NO_MEDIA_ANSWER


def answer(prompt: Prompt) -> str:
    """The engine's full answer to a prompt, before any cut."""
    if prompt.system is not None:
        found = _instruction_answer(prompt.system.text)
        if found is not None:
            return found
    index = prompt.last_user_index()
    last_text = "" if index is None else prompt.turns[index].text
    found = _instruction_answer(last_text)
    if found is not None:
        return found
    if index is not None and _CODE_WORD_QUESTION.search(last_text):
        word = _code_word(prompt.turns[:index])
        if word is not None:
            return word
    if index is not None and _WHICH_FRUIT.search(last_text):
        return _media_words(prompt.turns[: index + 1])
    recited = recitation(last_text)
    if recited is not None:
        return recited[0]
    return f"You said: {last_text}"


def complete(text: str, sampling: Sampling) -> Completion:
    """Apply the stop sequences and the token limit to an answer."""
    stop_at: int | None = None
    stop_end = 0
    for sequence in sampling.stop_sequences:
        if not sequence:
            continue
        position = text.find(sequence)
        if position >= 0 and (stop_at is None or position < stop_at):
            stop_at, stop_end = position, position + len(sequence)
    limit = sampling.max_output_tokens if (sampling.max_output_tokens or 0) >= 1 else None
    spans = [match.end() for match in TOKEN_PATTERN.finditer(text)]
    if limit is not None and len(spans) > limit and (stop_at is None or stop_end > spans[limit - 1]):
        return Completion(split_pieces(text[: spans[limit - 1]]), "MAX_TOKENS")
    if stop_at is not None:
        return Completion(split_pieces(text[:stop_at]), "STOP")
    return Completion(split_pieces(text), "STOP")


def generate(prompt: Prompt, sampling: Sampling) -> Generation:
    """Answer a prompt: the candidates and the prompt's token count."""
    completion = complete(answer(prompt), sampling)
    count = max(1, sampling.candidate_count)
    return Generation(candidates=(completion,) * count, prompt=count_prompt(prompt))
