"""The conventions users of CLI telemetry expect, as the Node client reads them (clients/node/src/
conventions.ts): ``DO_NOT_TRACK``, ``<APP>_TELEMETRY``, ``<APP>_TELEMETRY_DEBUG``, CI detection and the
first-run notice. Pure functions of the environment, so tests pass their own ``env``."""

import os
import re
import sys
from typing import Mapping, NamedTuple, Optional

OFF_VALUES = frozenset(["0", "false", "off", "no", "n", "disable", "disabled"])


class TelemetrySettings(NamedTuple):
    prefix: str
    """``ACME_MY_CLI`` for ``@acme/my-cli``."""
    opt_out: Optional[str]
    """Why the environment turns telemetry off (``DO_NOT_TRACK=1``), if it does."""
    debug: str
    """``off``, ``dry-run`` (nothing sent, prints what it would do) or ``live`` (logs each step)."""
    ci: Optional[str]
    """The detected CI provider, e.g. ``github-actions``."""


def app_env_prefix(app_name: str) -> str:
    """The environment-variable prefix of an app: ``@acme/my-cli`` -> ``ACME_MY_CLI``, ``hello-cli`` ->
    ``HELLO_CLI`` (so ``HELLO_CLI_TELEMETRY=0`` turns telemetry off)."""
    prefix = re.sub(r"[^A-Za-z0-9]+", "_", re.sub(r"^@", "", app_name)).strip("_").upper()
    return prefix or "APP"


def is_flag_on(value: Optional[str]) -> bool:
    """True for a set, non-empty value that does not say "no" (``1``, ``true``, ``yes``...)."""
    if value is None:
        return False
    normalized = value.strip().lower()
    return normalized != "" and normalized not in OFF_VALUES


def is_flag_off(value: Optional[str]) -> bool:
    """True when a value explicitly says "off" (``0``, ``false``, ``off``, ``no``)."""
    return value is not None and value.strip().lower() in OFF_VALUES


def debug_mode(value: Optional[str]) -> str:
    """``1``, ``true``, ``dry-run`` -> ``dry-run``; ``live`` -> ``live``; unset or ``0`` -> ``off``."""
    if not is_flag_on(value):
        return "off"
    return "live" if (value or "").strip().lower() == "live" else "dry-run"


# CI providers by the variable each sets, most specific first; the generic ones last (same list as Node).
CI_PROVIDERS = (
    ("github-actions", "GITHUB_ACTIONS"),
    ("gitlab-ci", "GITLAB_CI"),
    ("circleci", "CIRCLECI"),
    ("azure-pipelines", "TF_BUILD"),
    ("bitbucket-pipelines", "BITBUCKET_BUILD_NUMBER"),
    ("buildkite", "BUILDKITE"),
    ("travis-ci", "TRAVIS"),
    ("aws-codebuild", "CODEBUILD_BUILD_ARN"),
    ("google-cloud-build", "BUILDER_OUTPUT"),
    ("jenkins", "JENKINS_URL"),
    ("teamcity", "TEAMCITY_VERSION"),
    ("drone", "DRONE"),
    ("woodpecker", "CI_PIPELINE_NUMBER"),
    ("appveyor", "APPVEYOR"),
    ("semaphore", "SEMAPHORE"),
    ("bitrise", "BITRISE_IO"),
    ("netlify", "NETLIFY"),
    ("vercel", "VERCEL"),
    ("cloudflare-pages", "CF_PAGES"),
    ("generic", "CI"),
    ("generic", "CONTINUOUS_INTEGRATION"),
)


def detect_ci(env: Mapping[str, str]) -> Optional[str]:
    """The CI provider this process runs under (``github-actions``...), or None on a developer's machine."""
    for name, variable in CI_PROVIDERS:
        if is_flag_on(env.get(variable)):
            return name
    return None


def read_settings(app_name: str, env: Mapping[str, str]) -> TelemetrySettings:
    """Every telemetry setting an app's users can set in the environment."""
    prefix = app_env_prefix(app_name)
    telemetry_var = f"{prefix}_TELEMETRY"
    opt_out = None
    if is_flag_on(env.get("DO_NOT_TRACK")):
        opt_out = f"DO_NOT_TRACK={env.get('DO_NOT_TRACK', '')}"
    elif is_flag_off(env.get(telemetry_var)):
        opt_out = f"{telemetry_var}={env.get(telemetry_var, '')}"
    return TelemetrySettings(prefix, opt_out, debug_mode(env.get(f"{prefix}_TELEMETRY_DEBUG")), detect_ci(env))


# The names Node's process.platform and process.arch give, so both clients tag runs alike.
_SYSTEMS = {"linux": "linux", "darwin": "darwin", "win32": "win32", "cygwin": "win32"}
_MACHINES = {
    "x86_64": "x64",
    "amd64": "x64",
    "x64": "x64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "i386": "ia32",
    "i686": "ia32",
    "x86": "ia32",
    "armv7l": "arm",
    "armv6l": "arm",
    "ppc64le": "ppc64",
    "s390x": "s390x",
}


def current_platform() -> str:
    """``linux-x64``, ``darwin-arm64``, ``win32-x64``: what the mint request and the attributes carry."""
    system = next((node for prefix, node in _SYSTEMS.items() if sys.platform.startswith(prefix)), sys.platform)
    if hasattr(os, "uname"):
        machine = os.uname().machine
    else:  # Windows
        machine = os.environ.get("PROCESSOR_ARCHITEW6432") or os.environ.get("PROCESSOR_ARCHITECTURE", "")
    return f"{system}-{_MACHINES.get(machine.lower(), machine.lower() or 'unknown')}"


def default_notice(app_name: str, prefix: str) -> str:
    """The default first-run notice: names the app, says what is collected and how to opt out."""
    return "\n".join(
        [
            f"{app_name} sends telemetry (traces and logs of its runs) to its authors to help improve it.",
            f"It is tagged with a random install id, the {app_name} version, your platform (OS and CPU architecture)",
            "and, in CI, the CI provider's name.",
            f"To opt out, set {prefix}_TELEMETRY=0 or DO_NOT_TRACK=1.",
        ]
    )
