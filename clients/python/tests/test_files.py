"""The cache files and the lock: the Node client's names, format and protocol, and its safety rules."""

import io
import os
import stat
import sys
import time
import unittest

from . import support
from .stub_broker import StubBroker, issued

sys.path.insert(0, support.SRC)
from logfire_broker_client import BrokerClient, app_env_prefix  # noqa: E402
from logfire_broker_client._cache import cache_paths, format_time, parse_time  # noqa: E402
from logfire_broker_client._conventions import detect_ci, read_settings  # noqa: E402


class NodeCompatibility(unittest.TestCase):
    def test_names_the_cache_files_as_the_node_client_does(self) -> None:
        # Expected values computed by clients/node/src/cacheFiles.ts cachePaths().
        cases = [
            ("http://127.0.0.1:8787", "hello-cli", "hello-cli-e8e8a8d365aa", "hello-cli-c5f2c9fc"),
            ("https://broker.example.com/prod", "@Acme/My CLI…", "acme-my-cli-e3e2ade19d0f", "acme-my-cli-4a3d322c"),
            ("http://x", "é😀", "app-4affc1d52ef9", "app-44cc4da1"),
        ]
        for url, app, token, prefs in cases:
            paths = cache_paths("/c", url, app)
            self.assertEqual(paths.token_file, os.path.join("/c", token + ".token.json"))
            self.assertEqual(paths.preferences_file, os.path.join("/c", prefs + ".preferences.json"))

    def test_normalizes_the_broker_url_as_node_url_does(self) -> None:
        home = support.temp_home(self)
        env = {"HOME": home, "XDG_CONFIG_HOME": home}
        same = [BrokerClient(u, "hello-cli", "1", env=env).cache_file for u in ("HTTP://127.0.0.1:80/", "http://127.0.0.1")]
        self.assertEqual(same[0], same[1])
        self.assertEqual(same[0], cache_paths(os.path.join(home, "logfire-broker"), "http://127.0.0.1", "hello-cli").token_file)

    def test_writes_times_as_javascript_to_iso_string(self) -> None:
        self.assertEqual(format_time(1767225600.5), "2026-01-01T00:00:00.500Z")
        self.assertEqual(parse_time("2026-01-01T00:00:00.500Z"), 1767225600.5)
        self.assertIsNone(parse_time("yesterday"))

    def test_reads_the_conventions_of_the_environment(self) -> None:
        self.assertEqual(app_env_prefix("@acme/my-cli"), "ACME_MY_CLI")
        self.assertEqual(read_settings("hello-cli", {"HELLO_CLI_TELEMETRY": "off"}).opt_out, "HELLO_CLI_TELEMETRY=off")
        self.assertEqual(read_settings("hello-cli", {"DO_NOT_TRACK": "1"}).opt_out, "DO_NOT_TRACK=1")
        self.assertIsNone(read_settings("hello-cli", {"DO_NOT_TRACK": "0"}).opt_out)
        self.assertEqual(read_settings("x", {"X_TELEMETRY_DEBUG": "live"}).debug, "live")
        self.assertEqual(detect_ci({"GITHUB_ACTIONS": "true", "CI": "true"}), "github-actions")
        self.assertIsNone(detect_ci({"CI": "false"}))


class CacheSafety(unittest.TestCase):
    def setUp(self) -> None:
        self.stub = StubBroker(lambda path, body, headers: (201, issued(1)))
        self.addCleanup(self.stub.close)
        self.home = support.temp_home(self)
        self.dir = os.path.join(self.home, "cache")

    def client(self) -> BrokerClient:
        self.stderr = io.StringIO()
        env = {"HELLO_CLI_TELEMETRY_DEBUG": "live"}
        return BrokerClient(self.stub.url, "hello-cli", "1.0.0", notice=False, cache_dir=self.dir, env=env, stderr=self.stderr)

    def test_refuses_a_symlink_at_the_token_cache_and_leaves_its_target_alone(self) -> None:
        os.makedirs(self.dir, 0o700)
        target = os.path.join(self.home, "precious")
        with open(target, "w") as file:
            file.write("keep me")
        os.symlink(target, self.client().cache_file)
        self.assertIsNone(self.client().write_token())
        self.assertIn("is a symbolic link", self.stderr.getvalue())
        with open(target) as file:
            self.assertEqual(file.read(), "keep me")
        self.assertEqual(self.stub.calls, [])  # no mint per run for a planted link

    @unittest.skipUnless(hasattr(os, "mkfifo"), "no FIFOs on this platform")
    def test_refuses_a_fifo_without_waiting_on_it(self) -> None:
        os.makedirs(self.dir, 0o700)
        os.mkfifo(self.client().cache_file)
        started = time.monotonic()
        self.assertIsNone(self.client().write_token())
        self.assertLess(time.monotonic() - started, 1)
        self.assertIn("is a FIFO", self.stderr.getvalue())

    def test_refuses_an_oversized_file_and_a_planted_lock_file(self) -> None:
        os.makedirs(self.dir, 0o700)
        with open(self.client().cache_file, "w") as file:
            file.write(" " * (64 * 1024 + 1))
        self.assertIsNone(self.client().write_token())
        self.assertIn("a file of 65537 bytes", self.stderr.getvalue())
        os.unlink(self.client().cache_file)
        with open(self.client().cache_file + ".lock", "w"):
            pass
        self.assertIsNone(self.client().write_token())
        self.assertIn("not a lock directory", self.stderr.getvalue())

    @unittest.skipIf(sys.platform == "win32", "no mode bits on Windows")
    def test_refuses_a_cache_directory_others_can_write_to(self) -> None:
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o777)
        self.assertIsNone(self.client().write_token())
        self.assertIn("writable by group or others", self.stderr.getvalue())
        self.assertEqual(stat.S_IMODE(os.stat(self.dir).st_mode), 0o777)
        self.assertEqual(os.listdir(self.dir), [])

    def test_replaces_a_corrupt_cache_without_user_action(self) -> None:
        first = self.client()
        self.assertIsNotNone(first.write_token())
        with open(first.cache_file, "w") as file:
            file.write('{"format": "logfire-broker-cl')
        self.assertEqual(self.client().write_token(), issued(1)["writeToken"])
        self.assertIn("corrupt or truncated", self.stderr.getvalue())


class LockProtocol(unittest.TestCase):
    def setUp(self) -> None:
        self.stub = StubBroker(lambda path, body, headers: (201, issued(1)))
        self.addCleanup(self.stub.close)
        self.dir = os.path.join(support.temp_home(self), "cache")
        os.makedirs(self.dir, 0o700)

    def client(self, budget: float = 1.5) -> BrokerClient:
        return BrokerClient(self.stub.url, "hello-cli", "1.0.0", notice=False, cache_dir=self.dir, env={}, budget_seconds=budget)

    def test_takes_over_a_lock_whose_holder_stopped_refreshing_it(self) -> None:
        lock = self.client().cache_file + ".lock"
        os.mkdir(lock)
        old = time.time() - 3.5  # older than proper-lockfile's stale bound (3 s) in the Node client
        os.utime(lock, (old, old))
        self.assertEqual(self.client().write_token(), issued(1)["writeToken"])
        self.assertFalse(os.path.exists(lock))  # released after the update

    def test_waits_for_a_live_lock_at_most_the_budget(self) -> None:
        lock = self.client().cache_file + ".lock"
        os.mkdir(lock)  # fresh: another process is updating the cache
        started = time.monotonic()
        self.assertIsNone(self.client(budget=0.4).write_token())
        self.assertLess(time.monotonic() - started, 1.2)
        self.assertEqual(self.stub.calls, [])
        self.assertTrue(os.path.isdir(lock))  # someone else's lock is left alone


if __name__ == "__main__":
    unittest.main()
