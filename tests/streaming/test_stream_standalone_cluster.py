"""The same job against a real standalone Spark master and two workers started from the pyspark
install (spark-class), instead of local mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gridcast.services import libpq_url
from indexer.db.engine import upgrade
from streaming.reference import accepted, window_aggregates
from streaming.replay import FaultRates, build_plan
from streaming.testing import (
    free_port,
    job_env,
    kill_group,
    land,
    spawn,
    stream_command,
    wait_until,
)

pytestmark = pytest.mark.spark_cluster


def _spark_class() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


def _alive_workers(ui_port: int) -> int:
    """Workers the master counts alive (its web UI's JSON); 0 until the UI serves."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as r:
            return int(json.load(r).get("aliveworkers", 0))
    except (OSError, ValueError):
        return 0


@pytest.fixture(scope="module")
def standalone_master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    logs = tmp_path_factory.mktemp("spark-cluster")
    port, ui_port = free_port(), free_port()
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    master = spawn(
        [
            str(_spark_class()),
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui_port),
        ],
        env,
        logs / "master.log",
    )
    url = f"spark://127.0.0.1:{port}"
    workers = [
        spawn(
            [
                str(_spark_class()),
                "org.apache.spark.deploy.worker.Worker",
                url,
                "--cores",
                "1",
                "--memory",
                "1g",
                "--webui-port",
                str(free_port()),
                "--work-dir",
                str(logs / f"work{i}"),
            ],
            env,
            logs / f"worker{i}.log",
        )
        for i in (1, 2)
    ]
    try:
        # The job must find both workers registered: one that registered after an --until-idle
        # job ended would never run an executor for it (possible under load; not seen failing).
        wait_until("two Spark workers never registered", lambda: _alive_workers(ui_port) >= 2)
        yield url, logs
    finally:
        for worker in workers:
            kill_group(worker)
        kill_group(master)


def test_job_runs_on_standalone_master_and_two_workers(
    standalone_master: tuple[str, Path],
    mqtt_broker: tuple[str, int],
    fresh_database: Any,
    redis_url: str,
    tmp_path: Path,
) -> None:
    master_url, logs = standalone_master
    db = fresh_database("stream_cluster")
    upgrade(db)
    plan = build_plan(
        ["demand"], timedelta(hours=2), meters=6, batch=2, faults=FaultRates(duplicate=0.05), seed=5
    )
    land(plan, tmp_path / "landing", tmp_path / "dead", max_readings=10**6)
    cmd = stream_command(
        "--landing-dir",
        str(tmp_path / "landing"),
        "--checkpoint-dir",
        str(tmp_path / "checkpoint"),
        "--job",
        "test-cluster",
        "--master",
        master_url,
        "--reduce-on",
        "executors",  # the per-meter reduction itself runs on the worker, not the driver
        "--until-idle",
    )
    env = {**job_env(db, redis_url), "SPARK_LOCAL_IP": "127.0.0.1"}
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=400, check=False)
    assert done.returncode == 0, done.stdout.decode()[-3000:] + done.stderr.decode()[-3000:]

    expected = window_aggregates(accepted(plan.sent_readings()), 3600)
    with psycopg.connect(libpq_url(db)) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM window_start)::float8, value, reading_count"
            " FROM stream_aggregates WHERE window_kind = 'epoch' ORDER BY window_start"
        ).fetchall()
    assert [r[0] for r in rows] == expected["ws"].tolist()
    assert [r[1] for r in rows] == pytest.approx(expected["value"].tolist(), rel=1e-9)
    assert [r[2] for r in rows] == expected["reading_count"].tolist()
    # Both workers ran an executor for the application: the cluster, not local mode, did the
    # work, spread over its two workers.
    assert all(list((logs / f"work{i}").glob("app-*/*/stderr")) for i in (1, 2))
