"""The twin of hello_cli.py WITHOUT the broker client: the write token and the ingest URL come from the
environment, as they would if the author had baked a token into the package (what the broker exists to
avoid). Same work, same span, same exporter, so the bench can attribute the difference to the client.

    HELLO_WRITE_TOKEN=<token> HELLO_INGEST_URL=http://127.0.0.1:8787 python3 hello_cli_hardcoded.py world
"""

import argparse
import os
import sys
import threading

from otlp_json import now_ns, send_traces, span_payload


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="hello-cli")
    parser.add_argument("name", nargs="?", default="world")
    parser.add_argument("--exit-code", type=int, default=0)
    args = parser.parse_args(argv)
    budget = float(os.environ.get("HELLO_BROKER_BUDGET_MS", "1500")) / 1000
    token, base_url = os.environ.get("HELLO_WRITE_TOKEN"), os.environ.get("HELLO_INGEST_URL")
    started = now_ns()
    print(f"Hello, {args.name}!", flush=True)
    if token and base_url:
        resource = {"service.name": "hello-cli", "service.version": "1.0.0"}
        payload = span_payload("hello", started, now_ns(), resource, {"hello.name": args.name, "hello.exit_code": args.exit_code})
        # The same bound the client's flush() applies, in a daemon thread alike.
        worker = threading.Thread(target=lambda: send_traces(base_url, token, payload, budget), daemon=True)
        worker.start()
        worker.join(budget)
    return args.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
