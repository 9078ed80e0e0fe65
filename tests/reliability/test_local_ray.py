"""The local Ray that `grist run` starts (pipelines/ray_lifecycle.py): only the processes a
one-machine run uses, a dashboard agent that runs none of the dashboard's modules, and the full
set again when `runtime.dashboard` asks for it. Each case starts its own Ray in a child process
(the suite's shared Ray is started by conftest, not by grist)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent('''
    import json, os, sys
    sys.path.insert(0, sys.argv[1])
    from pipelines import runner
    from pipelines.config import RuntimeConfig

    runner.ensure_ray(RuntimeConfig(dashboard=sys.argv[2] == "1"))
    import ray, psutil

    @ray.remote
    def double(x):
        return 2 * x

    total = sum(ray.get([double.remote(i) for i in range(10)]))
    procs = []
    for p in psutil.Process().children(recursive=True):
        try:
            procs.append(" ".join(p.cmdline())[:300])
        except psutil.Error:
            pass
    log = os.path.join(ray._private.worker._global_node.get_session_dir_path(), "logs", "dashboard_agent.log")
    loaded = [line.strip() for line in open(log) if "Loaded" in line and "modules" in line] if os.path.exists(log) else []
    runner.shutdown_ray()
    print(json.dumps({"total": total, "procs": procs, "loaded": loaded}))
''')


def _start(tmp_path: Path, dashboard: bool) -> dict:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    out = subprocess.run([sys.executable, str(script), str(ROOT), "1" if dashboard else "0"], capture_output=True,
                         text=True, timeout=300, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_local_ray_starts_only_what_a_run_uses(tmp_path):
    got = _start(tmp_path, dashboard=False)
    assert got["total"] == 90
    joined = "\n".join(got["procs"])
    assert "gcs_server" in joined and "raylet" in joined and "ray::DashboardAgent" in joined
    for absent in ("monitor.py", "dashboard/dashboard.py", "log_monitor.py"):
        assert absent not in joined, absent
    # the agent runs no dashboard module: what a `pip install ray` without extras would run
    assert got["loaded"] == [got["loaded"][0]] and "Loaded 0 modules" in got["loaded"][0]


def test_runtime_dashboard_brings_the_full_agent_and_dashboard_back(tmp_path):
    got = _start(tmp_path, dashboard=True)
    assert got["total"] == 90
    assert "dashboard/dashboard.py" in "\n".join(got["procs"])
    assert got["loaded"] and "Loaded 0 modules" not in got["loaded"][0]


RERUN = textwrap.dedent('''
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from pipelines.config import parse_config
    from pipelines.run import run_pipeline

    folder = sys.argv[2]
    with open(folder + "/notes.jsonl", "w") as f:
        for i in range(50):
            f.write(json.dumps({"id": str(i), "text": f"note {i}: " + "words of a note " * 20}) + "\\n")
    cfg = parse_config({"output": folder + "/out", "sources": [{"name": "notes", "kind": "jsonl", "paths": [folder + "/*.jsonl"]}],
                        "filters": {"enabled": False}, "dedup": {"enabled": False}, "mixture": {"enabled": False},
                        "tokenizer": {"enabled": False}, "shards": {"enabled": False}})
    first = run_pipeline(cfg, workers=1)
    again = run_pipeline(cfg, workers=1)
    print(json.dumps([first["fixed_costs"]["ray_start_s"], again["fixed_costs"]["ray_start_s"],
                      first["accounting"], again["accounting"]]))
''')


def test_a_rerun_with_every_stage_up_to_date_starts_no_ray(tmp_path):
    script = tmp_path / "rerun.py"
    script.write_text(RERUN)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    out = subprocess.run([sys.executable, str(script), str(ROOT), str(tmp_path)], capture_output=True, text=True,
                         timeout=300, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    first, again, acc1, acc2 = json.loads(out.stdout.strip().splitlines()[-1])
    assert first > 0 and again == 0.0
    assert acc1 == acc2 and acc1["documents"] == 50
