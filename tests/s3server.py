"""An S3-compatible server for tests: moto's standalone server on 127.0.0.1, spoken to over HTTP by
the same client a user's run uses (s3fs/botocore, pointed at it by AWS_ENDPOINT_URL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s3_env(endpoint: str) -> dict[str, str]:
    """What a user sets to reach an S3-compatible store (here: fake credentials for the local server)."""
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1"}


def _forget_clients() -> None:
    """s3fs keeps one filesystem per set of arguments and takes the endpoint from the environment
    when it is made: one made for an earlier server (another port) must not serve the next one."""
    from s3fs import S3FileSystem

    S3FileSystem.clear_instance_cache()


@contextmanager
def s3_server(bucket: str = "grist-test", deadline_s: float = 120.0) -> Iterator[dict[str, str]]:
    """Start the server, create `bucket`, yield the environment to reach it; stop it afterwards."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = s3_env(endpoint)
    try:
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                              aws_secret_access_key="testing", region_name="us-east-1")
        t_end = time.monotonic() + deadline_s  # a busy machine can take long to start Flask
        while True:
            try:
                client.create_bucket(Bucket=bucket)
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > t_end:
                    raise RuntimeError(f"S3 test server on {endpoint} did not come up")
                time.sleep(0.2)
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        _forget_clients()
        try:
            yield env
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            _forget_clients()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
