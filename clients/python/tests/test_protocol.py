"""The token flow's answers to what a broker says, against a stub broker on 127.0.0.1 (replies lost after
the work was done, remote client settings, an older broker)."""

import io
import json
import os
import sys
import unittest

from . import support
from .stub_broker import StubBroker, issued

sys.path.insert(0, support.SRC)
from logfire_broker_client import BrokerClient  # noqa: E402


class StubCase(unittest.TestCase):
    def client(self, url: str, home: str, now=None, debug: str = "live") -> BrokerClient:
        self.stderr = io.StringIO()
        env = {"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"), "HELLO_CLI_TELEMETRY_DEBUG": debug}
        return BrokerClient(url, "hello-cli", "1.0.0", notice=False, env=env, stderr=self.stderr, now=now)

    def stub(self, answer) -> StubBroker:
        stub = StubBroker(answer)
        self.addCleanup(stub.close)
        return stub


class RefreshRetry(StubCase):
    def test_a_refresh_whose_reply_is_lost_is_sent_again_and_the_successor_is_cached(self) -> None:
        refreshes = []

        def answer(path, body, headers):
            if path == "/v1/tokens":
                return 201, issued(1)
            if path.endswith("/heartbeat"):
                return 200, {"status": "rotate", "heartbeatIntervalSeconds": 3600, "expiresAt": issued(1)["expiresAt"]}
            refreshes.append(headers.get("Authorization"))
            return None if len(refreshes) == 1 else (200, issued(2))  # the first reply never arrives

        stub = self.stub(answer)
        home = support.temp_home(self)
        self.assertEqual(self.client(stub.url, home).write_token(), issued(1)["writeToken"])
        later = lambda: __import__("time").time() + 1000  # noqa: E731 -- the heartbeat is due, the token alive
        token = self.client(stub.url, home, now=later).write_token()
        self.assertEqual(token, issued(2)["writeToken"])
        self.assertEqual(refreshes, [f"Bearer {issued(1)['clientSecret']}"] * 2)  # the same secret twice
        self.assertEqual(support.cached_token(home)["tokenId"], "tok_stub0002")
        self.assertNotIn(issued(1)["clientSecret"], self.stderr.getvalue())


class OlderBroker(StubCase):
    def test_a_broker_that_refuses_the_client_field_is_asked_again_without_it(self) -> None:
        bodies = []

        def answer(path, body, headers):
            bodies.append(body)
            if "client" in body:
                return 400, {"error": {"code": "invalid_request", "message": 'body: unknown field "client"'}}
            return 201, issued(1)

        stub = self.stub(answer)
        token = self.client(stub.url, support.temp_home(self)).write_token()
        self.assertEqual(token, issued(1)["writeToken"])
        self.assertEqual(bodies[0]["client"], {"name": "logfire-broker-client-python", "version": "0.1.0"})
        self.assertNotIn("client", bodies[1])
        self.assertEqual(bodies[0]["installId"], bodies[1]["installId"])


class RemoteSettings(StubCase):
    def test_a_kill_switch_turns_telemetry_off_and_says_why(self) -> None:
        settings = {"telemetry": "off", "sampleRate": 0, "reason": "kill_switch"}
        stub = self.stub(lambda path, body, headers: (201, issued(1, settings=settings)))
        home = support.temp_home(self)
        client = self.client(stub.url, home)
        self.assertIsNone(client.write_token())
        self.assertIsNone(client.ingest_base_url())
        self.assertEqual(client.otel_environment(), {"OTEL_SDK_DISABLED": "true"})
        self.assertIn("kill_switch", self.stderr.getvalue())
        # The next run obeys the cached settings without a call; the heartbeat can lift them later.
        self.assertIsNone(self.client(stub.url, home).write_token())
        self.assertEqual(stub.calls, ["/v1/tokens"])

    def test_an_outdated_client_is_told_which_version_it_needs(self) -> None:
        settings = {"telemetry": "off", "sampleRate": 0, "reason": "client_outdated", "minClientVersion": "0.3.0"}
        stub = self.stub(lambda path, body, headers: (201, issued(1, settings=settings)))
        self.assertIsNone(self.client(stub.url, support.temp_home(self)).write_token())
        self.assertIn("needs version 0.3.0 or newer", self.stderr.getvalue())

    def test_a_sample_rate_reaches_the_otel_sampler_and_the_heartbeat_can_change_it(self) -> None:
        state = {"rate": 0.25}

        def answer(path, body, headers):
            settings = {"telemetry": "on", "sampleRate": state["rate"]}
            if path == "/v1/tokens":
                return 201, issued(1, settings=settings)
            return 200, {"status": "active", "heartbeatIntervalSeconds": 3600, "expiresAt": issued(1)["expiresAt"], "settings": settings}

        stub = self.stub(answer)
        home = support.temp_home(self)
        client = self.client(stub.url, home)
        self.assertIsNotNone(client.write_token())
        self.assertEqual(client.sample_rate(), 0.25)
        env = client.otel_environment()
        self.assertEqual((env["OTEL_TRACES_SAMPLER"], env["OTEL_TRACES_SAMPLER_ARG"]), ("parentbased_traceidratio", "0.25"))
        state["rate"] = 1
        later = self.client(stub.url, home, now=lambda: __import__("time").time() + 1000)
        self.assertIsNotNone(later.write_token())
        self.assertEqual(later.sample_rate(), 1.0)
        self.assertEqual(stub.calls[-1], "/v1/tokens/tok_stub0001/heartbeat")
        self.assertNotIn("OTEL_TRACES_SAMPLER", later.otel_environment())
        self.assertEqual(json.loads(open(later.cache_file).read())["settings"], {"telemetry": "on", "sampleRate": 1})


if __name__ == "__main__":
    unittest.main()
