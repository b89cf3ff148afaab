"""hello-cli (Python): the smallest command-line tool that sends its telemetry to Logfire through the
broker. It greets, records one span ("hello") and exports it with the write token the broker client holds
for this installation. Telemetry never changes what the CLI prints on stdout or the exit code it returns,
and never holds it longer than the client's time budget. The same app as clients/node/examples/hello-cli.ts
(name ``hello-cli``, version 1.0.0): both builds on one machine share one install id and one token.

    python3 clients/python/examples/hello_cli.py world              # notice, mint, one span
    python3 clients/python/examples/hello_cli.py world --exit-code 3
    python3 clients/python/examples/hello_cli.py telemetry disable  # or enable, status, reset

Environment: HELLO_BROKER_URL (default http://127.0.0.1:8787), HELLO_BROKER_BUDGET_MS (default 1500), and
the client's conventions: DO_NOT_TRACK=1 or HELLO_CLI_TELEMETRY=0 turn telemetry off,
HELLO_CLI_TELEMETRY_DEBUG=1 prints the span instead of sending it (``live`` sends it and logs each step).

With Logfire's SDK the integration is two lines (this example stays on the standard library):

    client = BrokerClient(broker_url, "hello-cli", "1.0.0")
    client.notice_once(); client.configure_logfire(logfire)
"""

import argparse
import os
import sys

try:
    from logfire_broker_client import BrokerClient
except ImportError:  # run from a checkout of the repository
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    from logfire_broker_client import BrokerClient

from otlp_json import now_ns, print_span, send_traces, span_payload

APP_NAME, APP_VERSION = "hello-cli", "1.0.0"


def parse(argv):
    parser = argparse.ArgumentParser(prog="hello-cli", description="Greets, and sends one span about it.")
    parser.add_argument("name", nargs="?", default="world")
    parser.add_argument("extra", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--exit-code", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    if not 0 <= args.exit_code <= 255:
        parser.error("--exit-code must be 0..255")
    if args.name == "telemetry":
        if args.extra not in ("enable", "disable", "status", "reset"):
            parser.error("usage: hello-cli telemetry enable|disable|status|reset")
    elif args.extra is not None:
        parser.error(f"unexpected argument {args.extra!r}")
    return args


def main(argv) -> int:
    args = parse(argv)
    budget = float(os.environ.get("HELLO_BROKER_BUDGET_MS", "1500")) / 1000
    client = BrokerClient(
        os.environ.get("HELLO_BROKER_URL", "http://127.0.0.1:8787"), APP_NAME, APP_VERSION, budget_seconds=budget
    )
    if args.name == "telemetry":
        if args.extra == "disable":
            client.disable()
        elif args.extra == "enable":
            client.enable()
        elif args.extra == "reset":
            client.reset()
        print(f"telemetry is {'enabled' if client.enabled else 'disabled'}")
        return 0

    # First: the notice (once per user), before any telemetry leaves the machine.
    client.notice_once()
    started = now_ns()
    print(f"Hello, {args.name}!", flush=True)  # the CLI's own work

    if not client.enabled:
        return args.exit_code
    token = client.write_token()  # warm cache: two small file reads, no network
    base_url = client.ingest_base_url() if token else None
    attributes = {"hello.name": args.name, "hello.exit_code": args.exit_code}
    if token and base_url:
        rate = client.sample_rate()  # the broker's remote sample rate
        if rate >= 1 or __import__("random").random() < rate:
            payload = span_payload("hello", started, now_ns(), client.resource_attributes(), attributes)
            # Sends the span; gives up after the budget rather than keep the user waiting.
            client.flush(lambda: send_traces(base_url, token, payload, budget))
    elif client.debug:
        print_span(span_payload("hello", started, now_ns(), client.resource_attributes(), attributes), sys.stderr)
    return args.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
