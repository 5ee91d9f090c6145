"""The ``conformance`` command: run, compare, diff, baseline, list, serve, validate and faults."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from conformance import __version__
from conformance.errors import ConfigError
from conformance.suite.loader import DEFAULT_CASES_DIR, load_cases
from conformance.wire.profiles import Provider

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance", description="Conformance suite for Gemini-native and OpenAI-compatible gateways."
    )
    parser.add_argument("--version", action="version", version=f"gateway-conformance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="run the suite against a provider (default: the embedded reference gateway)"
    )
    run.add_argument(
        "--provider",
        action="append",
        default=[],
        help="profile name (providers/<name>.yaml) or path; repeat for a side-by-side matrix (default: reference)",
    )
    run.add_argument("--base-url", help="gateway base URL, overriding the profile")
    run.add_argument("--api-key-env", help="environment variable holding the key")
    run.add_argument("--gemini-prefix", help="path prefix of the Gemini native API, e.g. /v1beta")
    run.add_argument("--gemini-auth", choices=("query", "x-goog-api-key", "bearer"))
    run.add_argument("--openai-prefix", help="path prefix of the OpenAI-compatible API, e.g. /v1")
    run.add_argument("--openai-auth", choices=("query", "x-goog-api-key", "bearer"))
    run.add_argument("--model", help="model id, overriding the profile's default")
    run.add_argument("--concurrency", type=int, help="cases in flight at once")
    run.add_argument("--timeout", type=float, help="total seconds allowed per request")
    run.add_argument(
        "--out",
        help="report directory (default: reports/<provider>; with several providers: the parent of one"
        " directory per provider and of the matrix, default reports/)",
    )
    run.add_argument(
        "--reference",
        action="store_true",
        help="serve this profile's prefixes from the embedded reference gateway",
    )
    run.add_argument(
        "--fault", action="append", default=[], help="inject a fault into the embedded reference (repeatable)"
    )
    run.add_argument(
        "--mode",
        choices=("compat", "strict"),
        default="compat",
        help="strict: byte-faithful to Google (no extra fields, exact status pairs, framing); compat: what the SDKs tolerate",
    )
    run.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every case N times; a case passed in some rounds only is flaky",
    )
    run.add_argument(
        "--retries", type=int, help="retries of a 429 or 503 answer (default 2; 0 never retries)"
    )
    run.add_argument(
        "--retry-backoff",
        type=float,
        help="seconds before the first retry when there is no Retry-After (default 1, doubled each time)",
    )
    run.add_argument(
        "--retry-max-wait", type=float, help="longest single wait, Retry-After included (default 30)"
    )
    run.add_argument(
        "--ca-bundle",
        help="PEM CA bundle to verify the gateway's TLS certificate with (verification is always on)",
    )
    run.add_argument(
        "--baseline", help="baseline file of known failures (default: baselines/<provider>.yaml when present)"
    )
    run.add_argument(
        "--no-baseline", action="store_true", help="ignore baselines: run baselined cases as plain cases"
    )
    run.add_argument("--cases", default=str(DEFAULT_CASES_DIR), help="directory of case files")
    run.add_argument("-k", dest="keyword", help="select cases by id substring expression (pytest -k)")
    run.add_argument(
        "-m",
        dest="markers",
        help="select cases by marker expression: gemini, openai, must, should, <feature>",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="less console output")

    lister = commands.add_parser("list", help="print the cases")
    lister.add_argument("--cases", default=str(DEFAULT_CASES_DIR))
    lister.add_argument("--protocol", choices=("gemini", "openai"))
    lister.add_argument("--feature")
    lister.add_argument("--level", choices=("MUST", "SHOULD"))

    serve = commands.add_parser("serve", help="run the reference gateway on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--profile", default="reference", help="serve this profile's prefixes")
    serve.add_argument("--fault", action="append", default=[], help="fault to reproduce (repeatable)")
    serve.add_argument("--api-key", default="reference-key", help="the key the gateway accepts")
    serve.add_argument(
        "--stream-delay", type=float, default=0.02, help="seconds between streamed events (default 0.02)"
    )
    serve.add_argument(
        "--latency", type=float, default=0.0, help="seconds added before every response (benchmarks)"
    )

    validate = commands.add_parser(
        "validate", help="check a captured response body against the suite's schemas"
    )
    validate.add_argument("file")
    validate.add_argument(
        "--schema", help="schema name, e.g. gemini/GenerateContentResponse (default: detected)"
    )
    validate.add_argument("--strict", action="store_true", help="no fields beyond the spec")

    commands.add_parser("faults", help="list the reference gateway's faults")

    compare = commands.add_parser(
        "compare", help="the side-by-side matrix (HTML and Markdown) of earlier runs' results.json"
    )
    compare.add_argument("results", nargs="+", help="results.json files (or report directories holding one)")
    compare.add_argument(
        "--out",
        default=str(Path("reports")),
        help="directory for matrix.html and matrix.md (default: reports/)",
    )

    differ = commands.add_parser("diff", help="new failures, fixes and changed outcomes between two runs")
    differ.add_argument("old", help="the earlier results.json (or its directory)")
    differ.add_argument("new", help="the later results.json (or its directory)")

    base = commands.add_parser("baseline", help="write a baseline of a run's failed, errored and flaky cases")
    base.add_argument("results", help="results.json (or its directory)")
    base.add_argument(
        "--out",
        help="baseline file (default: baselines/<provider>.yaml); reasons and issues already there are kept",
    )
    base.add_argument("--reason", default="known failure", help="reason recorded for new entries")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        commands = {
            "run": cmd_run,
            "list": cmd_list,
            "serve": cmd_serve,
            "validate": cmd_validate,
            "faults": cmd_faults,
            "compare": cmd_compare,
            "diff": cmd_diff,
            "baseline": cmd_baseline,
        }
        return commands[args.command](args)
    except ConfigError as exc:
        print(exc.one_line(), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


OVERRIDES = (
    "base_url",
    "api_key_env",
    "gemini_prefix",
    "gemini_auth",
    "openai_prefix",
    "openai_auth",
    "model",
    "concurrency",
    "timeout",
    "retries",
    "retry_backoff",
    "retry_max_wait",
    "ca_bundle",
)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the suite once per provider; with several, also write the matrix over all of them."""
    from conformance.report.results import read_results
    from conformance.wire.profiles import load_provider, with_overrides

    cases_dir = Path(args.cases).resolve()
    load_cases(cases_dir)  # a broken case file is a one-line error before anything is sent
    if args.repeat < 1:
        raise ConfigError("must be at least 1", field="--repeat")
    if args.baseline:
        from conformance.engine.baseline import load_baseline

        if not Path(args.baseline).is_file():
            raise ConfigError("baseline file not found", source=args.baseline, field="--baseline")
        load_baseline(args.baseline)  # a broken baseline is a one-line error before anything is sent
    names = args.provider or ["reference"]
    overrides = {k: getattr(args, k) for k in OVERRIDES}
    providers = [with_overrides(load_provider(name), overrides) for name in names]
    seen: set[str] = set()
    for provider in providers:
        check_target(provider, reference=args.reference, faults=args.fault)
        if provider.name in seen:
            raise ConfigError(f"provider {provider.name!r} given twice", field="--provider")
        seen.add(provider.name)
    if len(providers) == 1:
        out = Path(args.out) if args.out else Path("reports") / providers[0].name
        return run_one(args, names[0], cases_dir, out, overrides)
    parent = Path(args.out) if args.out else Path("reports")
    codes = []
    documents = []
    for name, provider in zip(names, providers, strict=True):
        out = parent / provider.name
        print(f"=== provider {provider.name} -> {out}", flush=True)
        codes.append(run_one(args, name, cases_dir, out, overrides))
        if (out / "results.json").exists():
            documents.append(read_results(out / "results.json"))
    if documents:
        from conformance.report.writer import write_matrix

        html_path, md_path = write_matrix(documents, parent)
        print(f"matrix of {len(documents)} providers: {html_path} and {md_path}")
    return max(codes)


def run_one(
    args: argparse.Namespace, provider_name: str, cases_dir: Path, out: Path, overrides: dict[str, object]
) -> int:
    """One provider's run through pytest: results.json, junit.xml, report.html and its one-column matrix in ``out``."""
    import pytest

    out.mkdir(parents=True, exist_ok=True)
    pytest_args = [
        str(cases_dir),
        f"--rootdir={cases_dir.parent}",
        "-p",
        "no:cacheprovider",
        f"--cases-root={cases_dir}",
        f"--provider={provider_name}",
        f"--out={out}",
        f"--junitxml={out / 'junit.xml'}",
        "-o",
        "junit_suite_name=gateway-conformance",
        "-o",
        "junit_family=xunit2",
        f"--html={out / 'report.html'}",
        "--self-contained-html",
        f"--mode={args.mode}",
        f"--repeat={args.repeat}",
        "-rfE",
        "--tb=line" if args.quiet else "--tb=short",
        "-q",
    ]
    for name, value in overrides.items():
        if value is not None:
            pytest_args.append(f"--{name.replace('_', '-')}={value}")
    if args.reference:
        pytest_args.append("--reference")
    if args.baseline:
        pytest_args.append(f"--baseline={args.baseline}")
    if args.no_baseline:
        pytest_args.append("--no-baseline")
    pytest_args.extend(f"--fault={name}" for name in args.fault)
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    if args.markers:
        pytest_args += ["-m", args.markers]
    code = int(pytest.main(pytest_args))
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("error: no case matched the selection", file=sys.stderr)
        return EXIT_USAGE
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR):
        return EXIT_USAGE
    return code


def check_target(provider: Provider, *, reference: bool, faults: list[str]) -> None:
    """Refuse, before anything is sent, a run that has nowhere to go or asks for an unknown fault."""
    from conformance.reference.faults.registry import FAULTS

    embedded = provider.embedded or reference
    if faults and not embedded:
        raise ConfigError(
            "faults can only be injected into the embedded reference gateway (add --reference)",
            field="--fault",
        )
    for name in faults:
        if name not in FAULTS:
            raise ConfigError(f"unknown fault {name!r} (see `conformance faults`)", field="--fault")
    if not embedded and not provider.base_url:
        raise ConfigError(
            "no base_url in the profile; pass --base-url URL (or --reference)",
            source=provider.source,
            field="base_url",
        )


def cmd_list(args: argparse.Namespace) -> int:
    cases = load_cases(Path(args.cases))
    shown = [
        c
        for c in cases
        if (not args.protocol or c.protocol == args.protocol)
        and (not args.feature or c.feature == args.feature)
        and (not args.level or c.level == args.level)
    ]
    width = max((len(c.id) for c in shown), default=10)
    for case in shown:
        print(f"{case.id:{width}}  {case.level:6}  {case.title}")
    print(f"{len(shown)} cases")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from conformance.reference.app import create_app
    from conformance.reference.faults.registry import FAULTS
    from conformance.reference.server import serve_forever
    from conformance.wire.profiles import load_provider

    provider = load_provider(args.profile)
    for name in args.fault:
        if name not in FAULTS:
            raise ConfigError(f"unknown fault {name!r} (see `conformance faults`)", field="--fault")
    if not 0 <= args.stream_delay <= 10:
        raise ConfigError("must be between 0 and 10 seconds", field="--stream-delay")
    app = create_app(
        gemini_prefix=provider.gemini.prefix,
        openai_prefix=provider.openai.prefix,
        api_key=args.api_key,
        faults=args.fault,
        latency=args.latency,
        stream_delay=args.stream_delay,
    )
    print(
        f"reference gateway on http://127.0.0.1:{args.port} (gemini {provider.gemini.prefix or '/'}, openai {provider.openai.prefix or '/'},"
        f" faults: {', '.join(args.fault) or 'none'})",
        flush=True,
    )
    serve_forever(app, port=args.port)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from conformance.validation.store import SchemaStore, detect_schema

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", source=path) from None
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        document = exc
    stream = _stream_kind(path, data, document)
    if stream is not None:
        return _validate_stream(path, data, stream, args)
    if isinstance(document, Exception):
        raise ConfigError(f"not a JSON body or a stream: {document}", source=path) from None
    name = args.schema or detect_schema(document)
    if name is None:
        raise ConfigError("cannot tell which schema applies; pass --schema", source=path)
    store = SchemaStore.load()
    if name not in store.names():
        raise ConfigError(f"unknown schema {name!r}", source=path, field="--schema")
    violations = store.validate(name, document, strict=args.strict)
    for violation in violations:
        print(f"{path}: {violation.pointer or '/'}: {violation.message}")
    print(f"{path}: {name}: {'valid' if not violations else f'{len(violations)} violation(s)'}")
    return 0 if not violations else 1


def _stream_kind(path: Path, data: bytes, document: object) -> str | None:
    """A captured stream by extension (.sse, .jsonarray) or by content: a JSON array, or SSE lines."""
    from conformance.streams.view import sniff_bytes

    by_suffix = {".sse": "sse", ".jsonarray": "json-array"}.get(path.suffix.lower())
    if by_suffix:
        return by_suffix
    if isinstance(document, list):
        return "json-array"
    return sniff_bytes(data) if isinstance(document, Exception) else None


def _validate_stream(path: Path, data: bytes, kind: str, args: argparse.Namespace) -> int:
    from conformance.streams.captured import validate_stream
    from conformance.validation.store import SchemaStore

    store = SchemaStore.load()
    if args.schema and args.schema not in store.names():
        raise ConfigError(f"unknown schema {args.schema!r}", source=path, field="--schema")
    report = validate_stream(data, kind, store, schema=args.schema, strict=args.strict)  # type: ignore[arg-type]
    for note in report.notes:
        print(f"{path}: note: {note}")
    for problem in report.problems:
        print(f"{path}: {problem}")
    print(f"{path}: {report.summary}")
    return 0 if not report.problems else 1


def _results_path(given: str) -> Path:
    path = Path(given)
    return path / "results.json" if path.is_dir() else path


def cmd_compare(args: argparse.Namespace) -> int:
    from conformance.report.results import read_results
    from conformance.report.writer import write_matrix

    documents = [read_results(_results_path(given)) for given in args.results]
    html_path, md_path = write_matrix(documents, Path(args.out))
    print(f"matrix of {len(documents)} runs: {html_path} and {md_path}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """Exit 0 without new failures, 1 with at least one, 2 on bad input."""
    from conformance.report.diff import diff_runs, format_diff
    from conformance.report.results import read_results

    old, new = read_results(_results_path(args.old)), read_results(_results_path(args.new))
    diff = diff_runs(old, new)
    print(format_diff(diff, old, new))
    return 1 if diff.regressed else 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from conformance.engine.baseline import default_baseline_path, write_baseline
    from conformance.report.results import read_results

    document = read_results(_results_path(args.results))
    provider = document["run"]["provider"]
    path = Path(args.out) if args.out else default_baseline_path(provider)
    count = write_baseline(provider, document["cases"], path, args.reason)
    print(f"baseline of {provider}: {count} known failures in {path}")
    return 0


def cmd_faults(_: argparse.Namespace) -> int:
    from conformance.reference.faults.registry import FAULTS

    for fault in FAULTS.values():
        print(
            f"{fault.name:32} {fault.bug_class or '-':4} {fault.protocol:7} {fault.feature:20} {fault.description}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
