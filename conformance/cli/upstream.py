"""``conformance upstream``: the suite's upstream alone, for setting up a gateway and poking it by hand."""

from __future__ import annotations

import argparse
import socket
import sys

from conformance.cli.help import Help, Subcommands
from conformance.errors import ConfigError, key_from_env

HELP = Help(
    summary="run the suite's upstream (Google's native API, the reference's model) on 127.0.0.1 alone",
    examples=(
        (
            "conformance upstream --port 8090",
            "prints the base URL and a fresh key to configure the gateway with; logs each request it gets",
        ),
        (
            "UP_KEY=secret conformance upstream --port 8090 --key-env UP_KEY",
            "the key your gateway is already configured with (then: conformance run ... --upstream"
            " 127.0.0.1:8090 --upstream-key-env UP_KEY)",
        ),
    ),
    exit_codes=(
        ("0", "stopped by Ctrl-C"),
        ("2", "a bad option, an unset key variable, or a port that is invalid or already in use"),
    ),
)


def add_parser(commands: Subcommands) -> None:
    parser = HELP.parser(commands, "upstream")
    parser.add_argument("--port", type=int, default=8090, help="TCP port on 127.0.0.1 (default 8090)")
    parser.add_argument(
        "--key-env",
        metavar="VAR",
        help="environment variable holding the key the upstream accepts (default: a fresh key, printed)",
    )
    parser.add_argument(
        "--stream-delay", type=float, default=0.02, help="seconds between streamed events (default 0.02)"
    )


def command(args: argparse.Namespace) -> int:
    from conformance.cli.serve import bind
    from conformance.reference.server import serve_forever
    from conformance.upstream.app import create_upstream
    from conformance.upstream.ledger import ForwardedRequest, Ledger
    from conformance.upstream.server import new_key
    from conformance.wire.redact import Redactor

    key = key_from_env(args.key_env, "--key-env") if args.key_env else new_key()
    if not 0 <= args.stream_delay <= 10:
        raise ConfigError("must be between 0 and 10 seconds", field="--stream-delay")
    redactor = Redactor([key])

    def show(request: ForwardedRequest) -> None:
        tag = request.tag.text if request.tag else "no tag"
        print(
            f"{request.method} {redactor.text(request.target)} ({len(request.body)} bytes, {tag})", flush=True
        )

    app = create_upstream(key, Ledger(on_record=show), stream_delay=args.stream_delay)
    sock: socket.socket = bind(args.port)
    base = f"http://127.0.0.1:{args.port}"
    shown_key = f"the value of ${args.key_env}" if args.key_env else key
    print(
        f"upstream (Google's Gemini API, the reference's model) on {base}\n"
        f"  configure the gateway's Google base URL as {base} (it appends /v1beta/models/...),\n"
        f"  or as {base}/v1beta where the gateway wants the version in the base URL;\n"
        f"  its Google API key: {shown_key}\n"
        f"  models: gemini-2.5-flash, gemini-2.5-pro and the other reference models\n"
        f"then: conformance run --base-url <gateway> --api-key-env <VAR> --upstream 127.0.0.1:{args.port}"
        f" --upstream-key-env <VAR holding that key>\n"
        f"(Ctrl-C stops it; each request it receives is printed below)",
        flush=True,
    )
    sys.stdout.flush()
    serve_forever(app, sock)
    return 0
