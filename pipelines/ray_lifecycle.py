"""Starting and ending the Ray that `grist run` uses (pipelines/runner.py calls these).

- Start-up is retried: under heavy load Ray's own start-up wait (30 s for the raylet to register
  with the GCS, fixed in ray/_private/node.py) can run out. A failed attempt's processes are
  killed before the next one, and the last failure ends the run in one line (`RayStartError`).
- A local Ray binds 127.0.0.1 only: with `ENABLE_RAY_CLUSTER` off (Ray's setting for laptops) the
  node IP is the loopback address, and GCS, raylet, workers and agents listen there.
- No local Ray process outlives the driver: a watchdog (pipelines/ray_watchdog.py) is started
  before Ray and kills what is left of the session when the driver is gone.
- A local Ray starts only the head processes a one-machine run uses (`lean_head`): no autoscaler
  monitor (nothing to scale), no dashboard/API server unless `runtime.dashboard` asks for it, no
  log monitor unless `runtime.worker_logs` does, and the dashboard agent as in a Ray installed
  without extras (no HTTP server, no dashboard or metrics modules) when there is no dashboard; the
  driver does not import the dashboard's dependencies to learn that they are installed.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import signal
import socket
import sys
import time
from typing import Any, Callable

from pipelines import ray_watchdog
from pipelines.errors import GristError

# Attempts and the wait before each retry (seconds); a failed attempt already waited Ray's 30 s.
# GRIST_RAY_START_ATTEMPTS and GRIST_RAY_START_BACKOFF_S (comma-separated) override them.
START_ATTEMPTS = 3
START_BACKOFF_S = (2.0, 8.0)


def _settings() -> tuple[int, tuple[float, ...]]:
    try:
        attempts = max(1, int(os.environ.get("GRIST_RAY_START_ATTEMPTS", START_ATTEMPTS)))
        raw = os.environ.get("GRIST_RAY_START_BACKOFF_S")
        backoff = tuple(float(x) for x in raw.split(",")) if raw else START_BACKOFF_S
    except ValueError:
        raise GristError("GRIST_RAY_START_ATTEMPTS / GRIST_RAY_START_BACKOFF_S: expected numbers") from None
    return attempts, backoff


class RayStartError(GristError):
    """Ray did not start (or could not be reached) after every attempt."""

    exit_code = 1


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__


def with_retries(start: Callable[[], Any], what: str, attempts: int = START_ATTEMPTS,
                 backoff: tuple[float, ...] = START_BACKOFF_S, sleep: Callable[[float], None] = time.sleep,
                 cleanup: Callable[[], None] | None = None, note: Callable[[str], None] | None = None) -> Any:
    """Call `start()` up to `attempts` times; after a failure run `cleanup()` and wait before the
    next try. The last failure becomes a one-line `RayStartError` naming `what`."""
    last: BaseException | None = None
    for attempt in range(attempts):
        try:
            return start()
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as err:  # Ray raises bare Exception, RuntimeError, TimeoutError, ConnectionError
            last = err
            if cleanup is not None:
                cleanup()
            if attempt + 1 < attempts:
                wait = backoff[min(attempt, len(backoff) - 1)] if backoff else 0.0
                if note is not None:
                    note(f"{what}: attempt {attempt + 1} of {attempts} failed ({first_line(err)}); "
                         f"retrying in {wait:g} s")
                sleep(wait)
    assert last is not None
    raise RayStartError(f"{what} failed after {attempts} attempts: {first_line(last)}")


@contextlib.contextmanager
def lean_head(dashboard: bool, worker_logs: bool = True):
    """While starting a local Ray: no autoscaler monitor, no dashboard head process unless
    `dashboard`, no log monitor unless `worker_logs`. `ray.init(include_dashboard=False)` still
    starts the dashboard process (as an API server for jobs, which a local run never submits), the
    monitor only serves autoscaling, and the log monitor only forwards workers' stdout/stderr
    (grist's workers print nothing: a task's error reaches the driver as its exception). Measured
    on this 2-core machine (ray 2.60, an idle local Ray with 2 workers): 10 processes, 1,008 MiB
    RSS (568 MiB PSS) and 3.8 s to start, against 8 processes, 792 MiB (437 MiB PSS) and 3.1 s
    without monitor and dashboard; the log monitor is 87 MiB RSS more; `ray.shutdown` 1.3 s ->
    0.6 s. These are private Ray hooks (`RayParams`, `Node.start_api_server`): if a Ray release
    lacks them, Ray starts as it would by itself."""
    try:
        from ray._private import node as ray_node, parameter
    except ImportError:
        yield
        return
    params = getattr(parameter, "RayParams", None)
    api_server = getattr(getattr(ray_node, "Node", None), "start_api_server", None)
    if params is None or api_server is None or "no_monitor" not in inspect.signature(params).parameters:
        yield
        return

    class LeanParams(params):
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.no_monitor = True
            if not worker_logs:
                self.include_log_monitor = False

    def start_api_server(self: Any, *args: Any, **kwargs: Any) -> None:
        if dashboard:
            api_server(self, *args, **kwargs)

    undo = [_replace(parameter, "RayParams", LeanParams), _replace(ray_node.Node, "start_api_server", start_api_server),
            _patch_dashboard_deps_check(dashboard), _patch_node_wait(), None if dashboard else _patch_minimal_agent()]
    try:
        yield
    finally:
        for u in undo:
            if u is not None:
                u()


# What ray/dashboard/optional_deps.py imports: Ray imports that module in the driver only to learn
# whether the dashboard agent must run `--minimal`, which cost this process 23 MiB and 0.2-0.4 s
# (aiohttp, opencensus, opentelemetry, prometheus_client). Finding the packages answers the same.
_DASHBOARD_DEPS = ("aiohttp", "aiohttp_cors", "grpc", "opencensus", "opentelemetry", "prometheus_client", "pydantic")


def _replace(owner: Any, name: str, new: Any) -> Callable[[], None]:
    """Set `owner.name` to `new` while Ray starts; returns the undo."""
    original = getattr(owner, name)
    setattr(owner, name, new)
    return lambda: setattr(owner, name, original)


def _patch_dashboard_deps_check(dashboard: bool) -> Callable[[], None] | None:
    """While Ray starts: its dashboard dependency check answered without importing the packages
    in the driver; returns the undo (None: Ray has no such check to patch). Without the dashboard
    the answer is "not there", so the raylet runs its dashboard agent `--minimal` (no HTTP
    server; `_patch_minimal_agent` makes it run none of its modules too), and the raylet, which
    registers only once its agents are up, is ready sooner. Measured here under load (3 starts
    each, alternating): `ray.init` 3.5-4.9 s against 6.4-8.0 s with the full agent."""
    import importlib.util

    try:
        from ray._private import utils as ray_utils
    except ImportError:
        return None
    original = getattr(ray_utils, "get_dashboard_dependency_error", None)
    if original is None or "ray.dashboard.optional_deps" in sys.modules:
        return None

    def found() -> ImportError | None:
        if not dashboard:
            return ImportError("no dashboard in this local run: its agent runs --minimal")
        missing = [m for m in _DASHBOARD_DEPS if importlib.util.find_spec(m) is None]
        return ImportError(f"missing {', '.join(missing)}") if missing else None

    return _replace(ray_utils, "get_dashboard_dependency_error", found)


# Run first in the dashboard agent's process (`python -c` before agent.py and its arguments): the
# agent then sees what a `pip install ray` without extras has, no dashboard dependencies, and runs
# none of its modules (log, reporter, job, event, aggregator, healthz: all of them are for the
# dashboard or job submission, and `--minimal` alone only drops the agent's HTTP server: every
# module was still imported, started and polling). The agent's gRPC server, which the raylet
# talks to, runs as before.
_MINIMAL_AGENT = """\
import os, runpy, sys
sys.modules["ray.dashboard.optional_deps"] = None  # importing it fails, as without ray[default]
import ray.dashboard.utils
ray.dashboard.utils.get_all_modules = lambda module_type: []  # no module imported or started
if sys.argv[1:2] == ["-m"]:  # an agent started as a module
    sys.argv = sys.argv[2:]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(sys.argv[0])  # as when the script itself is run
    runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _patch_minimal_agent() -> Callable[[], None] | None:
    """While a local Ray without dashboard starts: its dashboard agent started through
    `_MINIMAL_AGENT`; returns the undo (None: nothing to patch). Measured here, an idle local Ray
    with 2 workers: the agent 115 -> 72 MiB RSS, `ray.init` 1.0 -> 0.8 s (the raylet registers
    once its agents are up); "Loaded 0 modules." in its log."""
    try:
        from ray._private import ray_constants, services
    except ImportError:
        return None
    original = getattr(services, "_build_python_executable_command_memory_profileable", None)
    component = getattr(ray_constants, "PROCESS_TYPE_DASHBOARD_AGENT", None)
    if original is None or component is None:
        return None

    def command(kind: str, *args: Any, **kwargs: Any) -> list[str]:
        cmd = original(kind, *args, **kwargs)
        return [*cmd, "-c", _MINIMAL_AGENT] if kind == component else cmd

    return _replace(services, "_build_python_executable_command_memory_profileable", command)


# How often a starting local Ray is asked whether its raylet has registered (seconds).
NODE_POLL_S = 0.01


def _patch_node_wait() -> Callable[[], None] | None:
    """While Ray starts: its wait for the new raylet to register with the GCS polled at a finer
    grain; returns the undo (None: nothing to patch). Ray asks once 0.1 s after starting the
    raylet, and when the raylet has not registered yet (it waits for its two agents to import
    and report their ports: 0.6-0.8 s here), the C++ accessor sleeps a whole second before it
    asks again. Asking the GCS every 10 ms first, then letting Ray's own call find the node at
    once, measured here (idle, 3 starts each): `ray.init` 1.53-1.56 s -> 1.01-1.14 s."""
    try:
        from ray._private import services
        from ray._raylet import GcsClient
        from ray.core.generated.gcs_pb2 import GcsNodeInfo
    except ImportError:
        return None
    alive = GcsNodeInfo.ALIVE
    original = getattr(services, "get_node", None)
    if original is None:
        return None

    def get_node(gcs_address: str, node_id: str, *args: Any, **kwargs: Any) -> Any:
        try:
            client = GcsClient(address=gcs_address)
            deadline = time.monotonic() + 30.0  # Ray's own raylet_start_wait_time_s
            while time.monotonic() < deadline:
                nodes = client.get_all_node_info(timeout=5)
                if any(n.hex() == node_id and info.state == alive for n, info in nodes.items()):
                    break
                time.sleep(NODE_POLL_S)
        except Exception:  # a private API: Ray's own wait decides
            pass
        return original(gcs_address, node_id, *args, **kwargs)

    return _replace(services, "get_node", get_node)


def bind_loopback() -> None:
    """Make a local Ray take 127.0.0.1 as its node IP, so that every listener binds there."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read when ray_constants is imported
    constants = sys.modules.get("ray._private.ray_constants")
    if constants is not None:
        constants.ENABLE_RAY_CLUSTER = False


def _kill_new_children(before: dict[int, int]) -> None:
    """SIGKILL the descendants this process gained since `before` (a failed start's GCS/raylet)."""
    if not sys.platform.startswith("linux"):
        return
    for pid, start in ray_watchdog.descendants(os.getpid()).items():
        if before.get(pid) != start:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def start_local(init: Callable[[], Any], note: Callable[[str], None] | None = None) -> ray_watchdog.Watchdog:
    """Start a local Ray with `init()` (retried), watched by a watchdog; returns the watchdog."""
    import ray

    # Ray 2.60 turns token authentication on for a new local cluster (a token in ~/.ray) and warns
    # that it did on every start: the default is kept, the warning is not shown.
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)

    attempts, backoff = _settings()

    bind_loopback()
    watchdog = ray_watchdog.Watchdog()
    watchdog.start()
    linux = sys.platform.startswith("linux")
    before = ray_watchdog.descendants(os.getpid()) if linux else {}

    def cleanup() -> None:
        try:
            ray.shutdown()
        except Exception:
            pass
        _kill_new_children(before)

    try:
        with_retries(init, "starting a local Ray", attempts=attempts, backoff=backoff, cleanup=cleanup, note=note)
    except BaseException:
        watchdog.stop()
        raise
    directory = session_dir()
    if directory:
        watchdog.session(directory)
    return watchdog


def connect(init: Callable[[], Any], address: str, note: Callable[[str], None] | None = None) -> None:
    """Join an existing cluster with `init()` (retried)."""
    import ray

    attempts, backoff = _settings()

    def cleanup() -> None:
        try:
            ray.shutdown()
        except Exception:
            pass

    def probe_then_init() -> Any:
        # ray.init retries an unreachable GCS for 20 x 60 s before it gives up: knock first.
        host, sep, port = address.rpartition(":")
        if sep and "://" not in address and port.isdigit():
            socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=10).close()
        return init()

    with_retries(probe_then_init, f"connecting to the Ray cluster at RAY_ADDRESS={address}", attempts=attempts,
                 backoff=backoff, cleanup=cleanup, note=note)


def session_dir() -> str | None:
    """The running local Ray's session folder (None if unknown)."""
    try:
        import ray

        return ray._private.worker._global_node.get_session_dir_path()
    except Exception:  # a private API: never let it end a run
        return None


class _NoTaskErrorNotice(logging.Filter):
    """Drops Ray Data's own notice of a failed task: the error itself reaches the CLI, which prints
    a known failure (a full disk) in one line and anything else with its traceback."""

    PREFIXES = ("Exception occurred in user code", "An exception was raised from a task of operator")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.PREFIXES)


def quiet_task_errors() -> None:
    for name in ("ray.data.exceptions", "ray.data._internal.execution.streaming_executor_state"):
        lg = logging.getLogger(name)
        if not any(isinstance(f, _NoTaskErrorNotice) for f in lg.filters):
            lg.addFilter(_NoTaskErrorNotice())
