"""The reference gateway's model catalogue, with the native and OpenAI renderings of a model.

Besides Google's metadata, a model says what it can do, as the real one does: which modalities it answers
in (text; text and images; audio only), whether it thinks when the request says nothing (the 2.5 Flash
and Pro models do, Flash-Lite and 2.0 do not), whether its thinking can be switched off (2.5 Pro's and
Gemini 3's cannot: thinkingBudget 0 is a 400), and whether it takes thinkingLevel (Gemini 3 only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

OutputModality = Literal["TEXT", "IMAGE", "AUDIO"]

SUPPORTED_METHODS: tuple[str, ...] = ("generateContent", "countTokens", "streamGenerateContent")
OPENAI_CREATED = 1735689600  # 2025-01-01T00:00:00Z: a fixed "created" for every listed model


@dataclass(frozen=True)
class ModelInfo:
    """One model of the catalogue, with the metadata of Google's Model resource."""

    id: str
    version: str
    display_name: str
    description: str
    input_token_limit: int = 1048576
    output_token_limit: int = 65536
    temperature: float = 1
    top_p: float = 0.95
    top_k: int = 64
    max_temperature: float = 2
    thinking: bool = True
    outputs: tuple[OutputModality, ...] = ("TEXT",)
    thinks_by_default: bool = True
    thinking_required: bool = False
    thinking_levels: bool = False

    def gemini_json(self) -> dict[str, Any]:
        """The native Model resource (``thinking`` omitted when false, as Google does)."""
        body: dict[str, Any] = {
            "name": f"models/{self.id}",
            "baseModelId": self.id,
            "version": self.version,
            "displayName": self.display_name,
            "description": self.description,
            "inputTokenLimit": self.input_token_limit,
            "outputTokenLimit": self.output_token_limit,
            "supportedGenerationMethods": list(SUPPORTED_METHODS),
            "temperature": self.temperature,
            "topP": self.top_p,
            "topK": self.top_k,
            "maxTemperature": self.max_temperature,
        }
        if self.thinking:
            body["thinking"] = True
        return body

    def openai_json(self) -> dict[str, Any]:
        """The OpenAI model object."""
        return {"id": self.id, "object": "model", "created": OPENAI_CREATED, "owned_by": "google"}


KNOWN_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        "gemini-2.5-flash",
        "001",
        "Gemini 2.5 Flash",
        "Stable version of Gemini 2.5 Flash, our mid-size multimodal model that supports up to "
        "1 million tokens, released in June of 2025.",
    ),
    ModelInfo(
        "gemini-2.5-pro",
        "2.5",
        "Gemini 2.5 Pro",
        "Stable release (June 17th, 2025) of Gemini 2.5 Pro",
        thinking_required=True,
    ),
    ModelInfo(
        "gemini-2.5-flash-lite",
        "001",
        "Gemini 2.5 Flash-Lite",
        "Stable version of Gemini 2.5 Flash-Lite, released in July of 2025",
        thinks_by_default=False,
    ),
    ModelInfo(
        "gemini-2.0-flash",
        "2.0",
        "Gemini 2.0 Flash",
        "Gemini 2.0 Flash",
        output_token_limit=8192,
        top_k=40,
        thinking=False,
        thinks_by_default=False,
    ),
    ModelInfo(
        "gemini-3-flash-preview",
        "3-flash-preview-12-2025",
        "Gemini 3 Flash Preview",
        "Gemini 3 Flash Preview",
        thinking_required=True,
        thinking_levels=True,
    ),
    ModelInfo(
        "gemini-2.5-flash-image",
        "2.0",
        "Nano Banana",
        "Gemini 2.5 Flash Image",
        input_token_limit=32768,
        output_token_limit=32768,
        thinking=False,
        outputs=("TEXT", "IMAGE"),
        thinks_by_default=False,
    ),
    ModelInfo(
        "gemini-2.5-flash-preview-tts",
        "gemini-2.5-flash-exp-tts-2025-05-19",
        "Gemini 2.5 Flash Preview TTS",
        "Gemini 2.5 Flash Preview TTS",
        input_token_limit=8192,
        output_token_limit=16384,
        thinking=False,
        outputs=("AUDIO",),
        thinks_by_default=False,
    ),
)
DEFAULT_MODEL_IDS: tuple[str, ...] = tuple(model.id for model in KNOWN_MODELS)


@dataclass(frozen=True)
class Catalogue:
    """The models a reference gateway serves, in listing order; the first is the default."""

    models: tuple[ModelInfo, ...]

    @classmethod
    def of(cls, ids: Sequence[str] | None = None) -> Catalogue:
        """A catalogue of the given model ids (known metadata where there is some)."""
        if ids is None:
            return cls(KNOWN_MODELS)
        if isinstance(ids, str):
            ids = [ids]
        known = {model.id: model for model in KNOWN_MODELS}
        chosen: list[ModelInfo] = []
        for model_id in dict.fromkeys(ids):
            if not model_id or "/" in model_id or ":" in model_id:
                raise ValueError(f"invalid model id {model_id!r}")
            chosen.append(
                known.get(model_id) or ModelInfo(model_id, "001", model_id, f"Reference model {model_id}")
            )
        if not chosen:
            raise ValueError("the catalogue needs at least one model")
        return cls(tuple(chosen))

    @property
    def default(self) -> ModelInfo:
        """The model an unknown-model fallback serves."""
        return self.models[0]

    def get(self, model_id: str) -> ModelInfo | None:
        """The model with this id, or None."""
        for model in self.models:
            if model.id == model_id:
                return model
        return None
