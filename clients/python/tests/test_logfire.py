"""configure_logfire() against a stand-in for Logfire's module with the real parameter names of
``logfire.configure`` and ``AdvancedOptions`` (pydantic/logfire ``logfire/_internal/config.py``) and
``SamplingOptions`` (``logfire/sampling``): a call with a wrong name fails here as it would there."""

import dataclasses
import io
import os
import sys
import types
import unittest

from . import support
from .stub_broker import StubBroker, issued

sys.path.insert(0, support.SRC)
from logfire_broker_client import BrokerClient  # noqa: E402


def stand_in_logfire(calls):
    @dataclasses.dataclass
    class AdvancedOptions:
        base_url: object = None
        id_generator: object = None
        ns_timestamp_generator: object = None
        log_record_processors: object = ()
        exception_callback: object = None

    @dataclasses.dataclass
    class SamplingOptions:
        head: object = 1.0
        tail: object = None

    def configure(
        *,
        local=False,
        send_to_logfire=None,
        token=None,
        api_key=None,
        service_name=None,
        service_version=None,
        environment=None,
        resource_attributes=None,
        console=None,
        config_dir=None,
        data_dir=None,
        additional_span_processors=None,
        metrics=None,
        scrubbing=None,
        inspect_arguments=None,
        sampling=None,
        min_level=None,
        add_baggage_to_attributes=True,
        code_source=None,
        variables=None,
        distributed_tracing=None,
        advanced=None,
    ):
        calls.append(dict(locals()))
        return "configured"

    return types.SimpleNamespace(configure=configure, AdvancedOptions=AdvancedOptions, SamplingOptions=SamplingOptions)


class ConfigureLogfire(unittest.TestCase):
    def setUp(self) -> None:
        self.settings = {"telemetry": "on", "sampleRate": 1}
        self.stub = StubBroker(lambda path, body, headers: (201, issued(1, settings=self.settings)))
        self.addCleanup(self.stub.close)
        self.home = support.temp_home(self)

    def client(self, **env) -> BrokerClient:
        return BrokerClient(self.stub.url, "hello-cli", "1.2.3", notice=False, cache_dir=self.home, env=env, stderr=io.StringIO())

    def test_passes_the_resolved_token_the_ingest_root_and_no_console(self) -> None:
        calls = []
        self.assertEqual(self.client().configure_logfire(stand_in_logfire(calls)), "configured")
        call = calls[0]
        self.assertEqual(call["token"], issued(1)["writeToken"])  # a string: Logfire takes no callable
        self.assertEqual(call["advanced"].base_url, "http://127.0.0.1:9")
        self.assertEqual((call["send_to_logfire"], call["console"]), (True, False))
        self.assertEqual((call["service_name"], call["service_version"]), ("hello-cli", "1.2.3"))
        self.assertEqual(call["resource_attributes"]["service.name"], "hello-cli")
        self.assertIn("logfire_broker.install_id", call["resource_attributes"])
        self.assertIsNone(call["sampling"])

    def test_passes_the_remote_sample_rate_as_head_sampling(self) -> None:
        self.settings["sampleRate"] = 0.1
        calls = []
        self.client().configure_logfire(stand_in_logfire(calls))
        self.assertEqual(calls[0]["sampling"].head, 0.1)

    def test_sends_nothing_when_telemetry_is_off_and_prints_spans_in_debug(self) -> None:
        calls = []
        self.client(DO_NOT_TRACK="1").configure_logfire(stand_in_logfire(calls))
        self.client(HELLO_CLI_TELEMETRY_DEBUG="1").configure_logfire(stand_in_logfire(calls))
        self.assertEqual([c["send_to_logfire"] for c in calls], [False, False])
        self.assertEqual([c["token"] for c in calls], [None, None])
        self.assertEqual([c["console"] for c in calls], [False, None])  # None: Logfire's console default
        self.assertEqual(self.stub.calls, [])

    def test_never_raises_when_configure_does(self) -> None:
        broken = types.SimpleNamespace(configure=lambda **kw: 1 / 0, AdvancedOptions=dict, SamplingOptions=dict)
        self.assertIsNone(self.client().configure_logfire(broken))


if __name__ == "__main__":
    unittest.main()
