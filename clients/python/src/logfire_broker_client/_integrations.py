"""Hand-offs to the telemetry SDKs, as they actually behave (DESIGN §5):

- Logfire's Python SDK takes ``token`` as a string (no callable), so it is resolved before ``configure``;
  it joins ``/v1/...`` at the root of ``advanced.base_url``, calls ``GET {base}/v1/info`` at every
  configure, and prints spans to the console unless ``console=False``. Parameter names as in
  pydantic/logfire ``logfire/_internal/config.py`` (``configure``, ``AdvancedOptions``) and
  ``logfire/sampling`` (``SamplingOptions(head=...)``).
- The OpenTelemetry SDK reads the ``OTEL_*`` variables of its specification.
"""

from typing import TYPE_CHECKING, Any, Dict
from urllib.parse import quote

if TYPE_CHECKING:
    from .client import BrokerClient


def logfire_configure_options(client: "BrokerClient", logfire: Any) -> Dict[str, Any]:
    options: Dict[str, Any] = {
        "service_name": client._app_name,
        "service_version": client._app_version,
        "resource_attributes": client.resource_attributes(),
    }
    debugging = client._settings.debug != "off"
    if not debugging:
        options["console"] = False  # a CLI's output is its own; the debug modes show the spans
    token = client.write_token()
    base_url = client.ingest_base_url() if token is not None else None
    if token is None or base_url is None:
        options["send_to_logfire"] = False
        return options
    options["send_to_logfire"] = True
    options["token"] = token
    options["advanced"] = logfire.AdvancedOptions(base_url=base_url)
    rate = client.sample_rate()
    if rate < 1:
        options["sampling"] = logfire.SamplingOptions(head=rate)
    return options


def _encode(value: str) -> str:
    # W3C Baggage-style percent-encoding, which both OTEL_*_HEADERS and OTEL_RESOURCE_ATTRIBUTES use.
    return quote(value, safe="")


def otel_environment(client: "BrokerClient") -> Dict[str, str]:
    token = client.write_token()
    base_url = client.ingest_base_url() if token is not None else None
    if token is None or base_url is None:
        return {"OTEL_SDK_DISABLED": "true"}
    attributes = client.resource_attributes()
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": base_url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization={_encode(token)}",
        "OTEL_RESOURCE_ATTRIBUTES": ",".join(f"{_encode(k)}={_encode(v)}" for k, v in attributes.items()),
        "OTEL_SERVICE_NAME": attributes["service.name"],
    }
    rate = client.sample_rate()
    if rate < 1:
        env["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio"
        env["OTEL_TRACES_SAMPLER_ARG"] = str(rate)
    return env
