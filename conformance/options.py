"""The options of a run, declared once: ``conformance run`` and the pytest plugin both read this table.

``RUN_OPTIONS`` lists every option with its flag, type, default, choices and help. ``add_to_parser``
puts them on an argparse parser or a pytest option group (their ``add_argument`` / ``addoption``
take the same keywords). ``RunSettings.read`` turns the parsed values into checked settings; a bad
value is a one-line ``ConfigError`` naming the flag.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from conformance.engine.stopping import DEFAULT_BREAKER
from conformance.errors import ConfigError
from conformance.upstream.endpoint import Endpoint
from conformance.wire.profiles import AUTH_STYLES

Front = Literal["cli", "pytest"]
BOTH: frozenset[Front] = frozenset({"cli", "pytest"})
CLI_ONLY: frozenset[Front] = frozenset({"cli"})


@dataclass(frozen=True)
class Option:
    """One option: its flags, how its value is read, its help line, and which front ends offer it."""

    flags: tuple[str, ...]
    help: str
    type: Callable[[str], Any] | None = str
    action: Literal["store", "append", "store_true"] = "store"
    choices: tuple[str, ...] | None = None
    default: Any = None
    metavar: str | None = None
    group: str = "target"
    fronts: frozenset[Front] = BOTH
    name: str = ""
    """Where the value is read (default: the long flag, ``--base-url`` -> ``base_url``)."""

    @property
    def dest(self) -> str:
        if self.name:
            return self.name
        return self.flags[-1].removeprefix("--").replace("-", "_")

    def keywords(self) -> dict[str, Any]:
        """The keywords of ``argparse.ArgumentParser.add_argument`` (and pytest's ``addoption``)."""
        out: dict[str, Any] = {"dest": self.dest, "help": self.help, "action": self.action}
        if self.action == "store_true":
            out["default"] = False
            return out
        out["default"] = [] if self.action == "append" else self.default
        if self.type is not None and self.type is not str:
            out["type"] = self.type
        if self.choices is not None:
            out["choices"] = self.choices
        if self.metavar is not None:
            out["metavar"] = self.metavar
        return out


RUN_OPTIONS: tuple[Option, ...] = (
    # -- where the requests go
    Option(
        ("--provider",),
        "provider profile: a shipped name (reference, google, new-api, theturbo, rivus) or a YAML file;"
        " repeat for a side-by-side matrix (default: reference)",
        action="append",
        metavar="NAME|PATH",
    ),
    Option(("--base-url",), "the gateway's base URL, overriding the profile (http or https)", metavar="URL"),
    Option(
        ("--api-key-env",),
        "environment variable holding the gateway key, overriding the profile (the key is never written)",
        metavar="VAR",
    ),
    Option(("--gemini-prefix",), "path prefix of the Gemini native API, e.g. /v1beta", metavar="PATH"),
    Option(("--gemini-auth",), "how the Gemini route takes the key", choices=AUTH_STYLES),
    Option(("--openai-prefix",), "path prefix of the OpenAI-compatible API, e.g. /v1", metavar="PATH"),
    Option(("--openai-auth",), "how the OpenAI route takes the key", choices=AUTH_STYLES),
    Option(
        ("--model",),
        "model id to test instead of the profile's default; repeat for several models: every provider x model"
        " is a target of its own, all run concurrently",
        action="append",
        metavar="ID",
    ),
    Option(
        ("--all-models",),
        "also test every model in each profile's models.others (off by default: each model is a whole run"
        " against the gateway, and on a real one it is paid for)",
        type=None,
        action="store_true",
    ),
    Option(
        ("--concurrency",),
        "cases in flight at once (profile field concurrency, default 8)",
        type=int,
        metavar="N",
    ),
    Option(("--timeout",), "total seconds allowed per request (default 120)", type=float, metavar="SECONDS"),
    Option(
        ("--retries",), "retries of a 429 or 503 answer (default 2; 0 never retries)", type=int, metavar="N"
    ),
    Option(
        ("--retry-backoff",),
        "seconds before the first retry when there is no Retry-After (default 1, doubled each time)",
        type=float,
        metavar="SECONDS",
    ),
    Option(
        ("--retry-max-wait",),
        "longest single wait between retries, Retry-After included (default 30)",
        type=float,
        metavar="SECONDS",
    ),
    Option(
        ("--ca-bundle",),
        "PEM CA bundle to verify the gateway's TLS certificate with (verification is always on)",
        metavar="PATH",
    ),
    Option(
        ("--max-duration",),
        "time limit of the whole run: what has not finished by then is errored and the reports are written",
        type=float,
        metavar="SECONDS",
    ),
    Option(
        ("--breaker",),
        "end the run after N transport failures or timeouts in a row: the cases not yet judged are errored"
        " with that one reason (default 5; 0 never)",
        type=int,
        default=DEFAULT_BREAKER,
        metavar="N",
    ),
    Option(
        ("--reference",),
        "serve the profile's prefixes from the embedded reference gateway instead of its base URL",
        type=None,
        action="store_true",
    ),
    Option(
        ("--fault",),
        "inject a fault into the embedded reference gateway (repeatable; see `conformance faults`)",
        action="append",
        metavar="NAME",
    ),
    Option(
        ("--upstream",),
        "two-sided run: play the gateway's upstream (Google's native API) on this loopback address and judge"
        " what the gateway forwards; configure the gateway's Google base URL as http://HOST:PORT first"
        " (the embedded reference forwards to it by itself; port 0 picks a free port)",
        metavar="HOST:PORT",
    ),
    Option(
        ("--upstream-key-env",),
        "environment variable holding the key the gateway sends to --upstream (needed with a gateway; the"
        " embedded reference gets a random key)",
        metavar="VAR",
    ),
    # -- how cases are judged
    Option(
        ("--mode",),
        "strict: byte-faithful to Google (no extra fields, exact status pairs, framing);"
        " compat: what the SDKs tolerate",
        choices=("compat", "strict"),
        default="compat",
        group="judging",
    ),
    Option(
        ("--repeat",),
        "run every case N rounds; a case that passes in some rounds only is flaky",
        type=int,
        default=1,
        metavar="N",
        group="judging",
    ),
    Option(
        ("--baseline",),
        "baseline file of known failures (default: baselines/<provider>.yaml when it exists)",
        metavar="FILE",
        group="judging",
    ),
    Option(
        ("--no-baseline",),
        "ignore baselines: run baselined cases as plain cases",
        type=None,
        action="store_true",
        group="judging",
    ),
    # -- which cases
    Option(
        ("--cases",),
        "a directory of your own case files, added to the built-in ones (repeatable; a clashing id: error)",
        action="append",
        metavar="DIR",
        group="cases",
    ),
    Option(
        ("-k",),
        "select cases whose id contains a word, with and/or/not: -k 'stop or gemini/errors'",
        metavar="EXPR",
        group="cases",
        fronts=CLI_ONLY,
        name="keyword",
    ),
    Option(
        ("-m",),
        "select cases by marker: gemini, openai, must, should or a feature (generation_config):"
        " -m 'openai and must'",
        metavar="EXPR",
        group="cases",
        fronts=CLI_ONLY,
        name="markers",
    ),
    # -- output
    Option(
        ("--out",),
        "report directory (default: reports/<what was run>, e.g. reports/google, reports/reference+<fault>;"
        " with several"
        " providers the parent of one directory each and of the matrix, default reports/)",
        metavar="DIR",
        group="output",
    ),
    Option(
        ("-q", "--quiet"),
        "print little more than the gate verdict and where the reports are",
        type=None,
        action="store_true",
        group="output",
        fronts=CLI_ONLY,
    ),
)
"""Every option of a run."""

GROUP_TITLES = {
    "target": "where the requests go",
    "judging": "how cases are judged",
    "cases": "which cases run",
    "output": "reports and console",
}


class _Adder(Protocol):
    def __call__(self, *flags: str, **keywords: Any) -> Any: ...


def add_to_parser(add: Callable[[str], _Adder], front: Front) -> None:
    """Declare every option of ``front``: ``add(group_title)`` gives the function that declares one option."""
    for option in RUN_OPTIONS:
        if front not in option.fronts:
            continue
        add(GROUP_TITLES[option.group])(*option.flags, **option.keywords())


@dataclass(frozen=True)
class RunSettings:
    """The checked values of a run's options."""

    providers: tuple[str, ...]
    overrides: dict[str, Any]
    reference: bool
    faults: tuple[str, ...]
    mode: str
    repeat: int
    baseline: str | None
    no_baseline: bool
    cases: tuple[Path, ...]
    out: Path | None
    keyword: str | None = None
    markers: str | None = None
    quiet: bool = False
    max_duration: float | None = None
    breaker: int = DEFAULT_BREAKER
    models: tuple[str, ...] = ()
    """The ``--model`` values: each provider runs each of them (none: the profile's default model)."""
    all_models: bool = False
    """``--all-models``: each profile's ``models.others`` join its models."""
    upstream: Endpoint | None = None
    upstream_key_env: str | None = None

    @property
    def strict(self) -> bool:
        return self.mode == "strict"

    @staticmethod
    def case_directories(given: Sequence[str]) -> tuple[Path, ...]:
        """The ``--cases`` directories, each checked to exist."""
        directories = []
        for text in given:
            path = Path(text).expanduser()
            if not path.is_dir():
                raise ConfigError("not a directory of case files", source=text, field="--cases")
            directories.append(path.resolve())
        return tuple(directories)

    @classmethod
    def read(cls, value: Callable[[str], Any]) -> RunSettings:
        """Settings from the parsed values (``value(dest)``); bad values raise a one-line ``ConfigError``."""
        overrides = {
            name: value(name)
            for name in (
                "base_url",
                "api_key_env",
                "gemini_prefix",
                "gemini_auth",
                "openai_prefix",
                "openai_auth",
                "concurrency",
                "timeout",
                "retries",
                "retry_backoff",
                "retry_max_wait",
                "ca_bundle",
            )
        }
        repeat = value("repeat")
        if repeat is None or repeat < 1:
            raise ConfigError("must be at least 1", field="--repeat")
        providers = tuple(value("provider") or ()) or ("reference",)
        if len(set(providers)) != len(providers):
            twice = next(name for name in providers if providers.count(name) > 1)
            raise ConfigError(f"provider {twice!r} given twice", field="--provider")
        models = tuple(value("model") or ())
        for model in models:
            if not model.strip() or any(char.isspace() or char in "?#" for char in model):
                raise ConfigError(f"not a model id: {model!r}", field="--model")
        if len(set(models)) != len(models):
            twice = next(name for name in models if models.count(name) > 1)
            raise ConfigError(f"model {twice!r} given twice", field="--model")
        cases = cls.case_directories(value("cases") or ())
        out = value("out")
        max_duration = value("max_duration")
        if max_duration is not None and max_duration <= 0:
            raise ConfigError("must be positive", field="--max-duration")
        breaker = value("breaker")
        if breaker is None or breaker < 0:
            raise ConfigError("must not be negative (0 never stops the run)", field="--breaker")
        upstream_text = value("upstream")
        upstream = Endpoint.parse(upstream_text) if upstream_text else None
        upstream_key_env = value("upstream_key_env")
        if upstream_key_env and upstream is None:
            raise ConfigError(
                "names the upstream's key, but no --upstream was given", field="--upstream-key-env"
            )
        return cls(
            providers=providers,
            overrides=overrides,
            reference=bool(value("reference")),
            faults=tuple(value("fault") or ()),
            mode=value("mode") or "compat",
            repeat=repeat,
            baseline=value("baseline"),
            no_baseline=bool(value("no_baseline")),
            cases=cases,
            out=Path(out) if out else None,
            keyword=_optional(value, "keyword"),
            markers=_optional(value, "markers"),
            quiet=bool(_optional(value, "quiet")),
            max_duration=max_duration,
            breaker=breaker,
            models=models,
            all_models=bool(value("all_models")),
            upstream=upstream,
            upstream_key_env=upstream_key_env,
        )


def _optional(value: Callable[[str], Any], dest: str) -> Any:
    """A value only one front end has (the pytest plugin has its own -k, -m and -q)."""
    try:
        return value(dest)
    except (AttributeError, ValueError):
        return None
