"""logfire-broker client for Python CLIs: a cached, per-installation Pydantic Logfire write token from
a logfire-broker, with heartbeat, refresh, opt-out conventions and a first-run notice. Standard library
only; shares its cache files and lock with the Node client (``logfire-broker-client`` on npm)."""

from ._conventions import app_env_prefix
from .client import DEFAULT_BUDGET_SECONDS, BrokerClient, __version__

__all__ = ["BrokerClient", "DEFAULT_BUDGET_SECONDS", "app_env_prefix", "__version__"]
