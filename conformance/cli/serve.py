"""``conformance serve``: the reference gateway on loopback, for trying a client or a gateway by hand; with
``--forward-to`` a forwarding gateway in front of Google or the suite's upstream."""

from __future__ import annotations

import argparse
import socket

from conformance.cli.help import Help, Subcommands
from conformance.errors import ConfigError, key_from_env

HELP = Help(
    summary="run the reference gateway on 127.0.0.1 (Ctrl-C stops it)",
    examples=(
        ("conformance serve --port 8080", "both protocols under /v1beta and /v1, key reference-key"),
        (
            "conformance serve --profile theturbo --fault usage-misreported",
            "another profile's prefixes, with a fault",
        ),
        (
            "conformance serve --forward-to http://127.0.0.1:8090 --forward-key-env UP_KEY",
            "a forwarding gateway: native pass-through and OpenAI translation to that Google base URL",
        ),
        (
            "conformance serve --forward-to http://127.0.0.1:8090 --forward-key-env UP_KEY"
            " --fault upstream-key-in-query",
            "the forwarding gateway with a forwarding fault (see `conformance faults`)",
        ),
    ),
    exit_codes=(
        ("0", "stopped by Ctrl-C"),
        (
            "2",
            "a bad option, an unknown fault, an unset key variable, or a port that is invalid or already in"
            " use; nothing is served",
        ),
    ),
)


def add_parser(commands: Subcommands) -> None:
    parser = HELP.parser(commands, "serve")
    parser.add_argument("--port", type=int, default=8080, help="TCP port on 127.0.0.1 (default 8080)")
    parser.add_argument(
        "--profile", default="reference", metavar="NAME|PATH", help="serve this profile's prefixes"
    )
    parser.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="fault to reproduce (repeatable)"
    )
    parser.add_argument(
        "--api-key", default="reference-key", help="the key the gateway accepts (default reference-key)"
    )
    parser.add_argument(
        "--stream-delay", type=float, default=0.02, help="seconds between streamed events (default 0.02)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added before every response (for benchmarks)"
    )
    parser.add_argument(
        "--forward-to",
        metavar="URL",
        help="forward every request to this Google base URL (with or without /v1beta) instead of answering:"
        " the native route passed through, the OpenAI route translated to native",
    )
    parser.add_argument(
        "--forward-key-env",
        metavar="VAR",
        help="environment variable holding the key sent to --forward-to (x-goog-api-key)",
    )


def bind(port: int) -> socket.socket:
    """A listening-ready socket on 127.0.0.1:``port``; an invalid or busy port is a one-line error."""
    if not 0 < port < 65536:
        raise ConfigError(f"not a TCP port: {port} (1 to 65535)", field="--port")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}", field="--port") from None
    return sock


def command(args: argparse.Namespace) -> int:

    from conformance.reference.app import create_app
    from conformance.reference.faults.registry import FAULTS, FORWARDING_AREA
    from conformance.reference.forward import create_forwarding_app
    from conformance.reference.server import serve_forever
    from conformance.wire.profiles import load_provider

    provider = load_provider(args.profile)
    forwarding = args.forward_to is not None
    for name in args.fault:
        if name not in FAULTS:
            raise ConfigError(f"unknown fault {name!r} (see `conformance faults`)", field="--fault")
        if (FAULTS[name].area == FORWARDING_AREA) != forwarding:
            needs = "applies without --forward-to" if forwarding else "needs --forward-to"
            raise ConfigError(f"fault {name!r} {needs}", field="--fault")
    forward_key = ""
    if forwarding:
        if not args.forward_to.startswith(("http://", "https://")):
            raise ConfigError(f"not an http(s) URL: {args.forward_to!r}", field="--forward-to")
        if not args.forward_key_env:
            raise ConfigError(
                "--forward-to needs --forward-key-env VAR (the upstream's key)", field="--forward-key-env"
            )
        forward_key = key_from_env(args.forward_key_env, "--forward-key-env")
    elif args.forward_key_env:
        raise ConfigError(
            "names the upstream's key, but no --forward-to was given", field="--forward-key-env"
        )
    if not 0 <= args.stream_delay <= 10:
        raise ConfigError("must be between 0 and 10 seconds", field="--stream-delay")
    if args.latency < 0:
        raise ConfigError("must not be negative", field="--latency")
    if not args.api_key:
        raise ConfigError("must not be empty", field="--api-key")
    app = (
        create_forwarding_app(
            args.forward_to,
            forward_key,
            gemini_prefix=provider.gemini.prefix,
            openai_prefix=provider.openai.prefix,
            api_key=args.api_key,
            faults=args.fault,
        )
        if forwarding
        else create_app(
            gemini_prefix=provider.gemini.prefix,
            openai_prefix=provider.openai.prefix,
            api_key=args.api_key,
            faults=args.fault,
            latency=args.latency,
            stream_delay=args.stream_delay,
        )
    )
    sock = bind(args.port)
    forwards = f", forwarding to {args.forward_to}" if forwarding else ""
    print(
        f"reference gateway on http://127.0.0.1:{args.port} (gemini {provider.gemini.prefix or '/'},"
        f" openai {provider.openai.prefix or '/'}{forwards}, faults: {', '.join(args.fault) or 'none'})",
        flush=True,
    )
    serve_forever(app, sock)
    return 0
