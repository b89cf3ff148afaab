"""The client's own errors. None ever reaches the host program: the client catches them, turns telemetry
off for the run and, in debug mode, prints the message. Messages name the step and the cause and never
carry a write token or a client secret."""

from typing import Optional


class BrokerClientError(Exception):
    """Base class of every error the client raises internally."""


class BudgetSpentError(BrokerClientError):
    """The run's time budget ran out before a network step finished."""

    def __init__(self, step: str, budget_seconds: float) -> None:
        super().__init__(f"{step}: the time budget of {round(budget_seconds * 1000)} ms ran out")


class BrokerRequestError(BrokerClientError):
    """The broker could not be reached, or answered with a status the step does not expect."""

    def __init__(
        self,
        message: str,
        status: Optional[int] = None,
        retry_after_seconds: Optional[float] = None,
        body: object = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_seconds = retry_after_seconds
        self.body = body


class InvalidReplyError(BrokerClientError):
    """The broker answered 2xx with a body that does not follow the HTTP contract."""

    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: the broker's reply is not valid ({detail})")


class CacheRefusedError(BrokerClientError):
    """Something at a cache path is not what the client may use (a symlink, FIFO, directory or oversized
    file where a cache file belongs, or a cache directory others can write to). Nothing is changed."""
