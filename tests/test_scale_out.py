"""Scale-out is configuration: the production instance config (deploy/dagster.prod.yaml) against a real
Postgres (pgserver) and an S3-compatible endpoint (moto in server mode), with media published to S3.

Why real servers: the prod file is only worth something if Dagster can actually load it, create its
tables in Postgres, ship step logs to the bucket, and the assets can publish media under the keys
other machines will derive. Nothing here talks to the internet; both servers listen on loopback.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

REPO = Path(__file__).resolve().parents[1]
PROD_YAML = REPO / "deploy" / "dagster.prod.yaml"
BUCKET = "vidpipe-test"
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
S3_ENV = ("VIDPIPE_S3_BUCKET", "VIDPIPE_S3_PREFIX", "VIDPIPE_S3_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN")


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    """A throwaway Postgres 16 from the pgserver wheel (runs as the `pgserver` system user when we are root)."""
    pgserver = pytest.importorskip("pgserver", reason="pgserver not installed: pip install -e '.[test]'")
    # Not under pytest's tmp tree: as root, pgserver chmods every parent of the data dir to o+rx.
    base = Path(tempfile.mkdtemp(prefix="vidpipe-pg-"))
    try:
        server = pgserver.get_server(base / "pgdata", cleanup_mode="delete")
    except Exception as exc:  # e.g. no useradd in a locked-down container
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"could not start Postgres via pgserver: {exc.__class__.__name__}: {exc}")
    yield server
    server.cleanup()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 in server mode on an ephemeral loopback port (the same HTTP API boto3 uses against AWS)."""
    server_mod = pytest.importorskip("moto.server", reason="moto[server] not installed: pip install -e '.[test]'")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in FAKE_AWS.items():
            mp.setenv(k, v)
        server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        import boto3

        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A boto3 client on moto with fake credentials in the environment, and an empty bucket."""
    import boto3

    for var in S3_ENV:
        monkeypatch.delenv(var, raising=False)
    for k, v in FAKE_AWS.items():
        monkeypatch.setenv(k, v)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.endpoint = s3_endpoint  # type: ignore[attr-defined]
    return client


def _keys(client: Any, prefix: str = "") -> set[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


@pytest.fixture
def prod_instance(postgres: Any, s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  request: pytest.FixtureRequest) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance loaded from deploy/dagster.prod.yaml, pointed at a fresh database and moto."""
    db = f"t_{abs(hash(request.node.nodeid)) % 10**8}"
    postgres.psql(f"DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db};")
    # SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3; dagster-postgres ships psycopg2.
    url = postgres.get_uri(db).replace("postgresql://", "postgresql+psycopg2://", 1)
    monkeypatch.setenv("DAGSTER_PG_URL", url)
    monkeypatch.setenv("DAGSTER_S3_LOG_BUCKET", BUCKET)
    monkeypatch.setenv("DAGSTER_S3_LOG_PREFIX", "dagster/compute-logs")
    monkeypatch.setenv("VIDPIPE_S3_ENDPOINT_URL", s3.endpoint)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROD_YAML, home / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        yield instance
    finally:
        instance.dispose()


# --- ObjectStore (no Dagster) ---------------------------------------------------------------------


def test_publish_without_bucket_returns_local_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidpipe.media.object_store import ObjectStore

    monkeypatch.delenv("VIDPIPE_S3_BUCKET", raising=False)
    f = tmp_path / "media" / "ep" / "final.mp4"
    f.parent.mkdir(parents=True)
    f.write_bytes(b"x")
    store = ObjectStore.from_env()
    assert not store.enabled
    assert store.publish(f, tmp_path / "media") == str(f.resolve())


def test_publish_uploads_under_prefix_once(s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidpipe.errors import MediaError
    from vidpipe.media.object_store import ObjectStore

    monkeypatch.setenv("VIDPIPE_S3_BUCKET", BUCKET)
    monkeypatch.setenv("VIDPIPE_S3_PREFIX", "/studio/media/")
    monkeypatch.setenv("VIDPIPE_S3_ENDPOINT_URL", s3.endpoint)
    media = tmp_path / "media"
    clip = media / "ep01" / "shots" / "s001" / "clip.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"\x00" * 2048)
    store = ObjectStore.from_env()
    uri = store.publish(clip, media)
    assert uri == f"s3://{BUCKET}/studio/media/ep01/shots/s001/clip.mp4"
    head = s3.head_object(Bucket=BUCKET, Key="studio/media/ep01/shots/s001/clip.mp4")
    assert head["ContentLength"] == 2048 and head["ContentType"] == "video/mp4"

    uploads: list[str] = []
    real = store.client().upload_file
    monkeypatch.setattr(store.client(), "upload_file", lambda *a, **kw: (uploads.append(a[2]), real(*a, **kw)))
    assert store.publish(clip, media) == uri and uploads == []  # same bytes: HEAD only, no re-upload
    clip.write_bytes(b"\x01" * 10)
    store.publish(clip, media)
    assert uploads == ["studio/media/ep01/shots/s001/clip.mp4"]  # changed bytes: uploaded again

    (tmp_path / "elsewhere.mp4").write_bytes(b"x")
    with pytest.raises(MediaError, match="not under the media root"):
        store.publish(tmp_path / "elsewhere.mp4", media)
    with pytest.raises(MediaError, match="no such file"):
        store.publish(media / "ep01" / "missing.mp4", media)


def test_media_root_resource_fields_override_env(s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from resources import MediaRoot

    monkeypatch.setenv("VIDPIPE_S3_BUCKET", "not-this-one")
    still = tmp_path / "data" / "media" / "ep" / "shots" / "s001" / "still.png"
    still.parent.mkdir(parents=True)
    still.write_bytes(b"png")
    res = MediaRoot(root=str(tmp_path), s3_bucket=BUCKET, s3_prefix="p", s3_endpoint_url=s3.endpoint)
    assert res.publish(still) == f"s3://{BUCKET}/p/ep/shots/s001/still.png"
    assert res.publish(None) is None and res.publish(still.with_name("nope.png")) is None
    assert "p/ep/shots/s001/still.png" in _keys(s3)


# --- The production instance config -----------------------------------------------------------------


def test_prod_config_uses_postgres_and_s3_logs(prod_instance: dg.DagsterInstance, s3: Any, project: Any) -> None:
    import os
    import subprocess
    import sys

    from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    assert isinstance(prod_instance.run_storage, PostgresRunStorage)
    assert isinstance(prod_instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(prod_instance.compute_log_manager, S3ComputeLogManager)
    limits = prod_instance.get_concurrency_config()
    assert limits.run_queue_config.max_concurrent_runs == 4
    # `launch.py setup` for real against this instance: pools land in Postgres, partitions = the real shots
    env = {**os.environ, "DAGSTER_HOME": str(prod_instance.root_directory), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, str(REPO / "launch.py"), "setup"], env=env, capture_output=True,
                         text=True, timeout=300, cwd=project.root)
    assert out.returncode == 0, out.stderr
    from launch import POOLS

    for pool, limit in POOLS.items():
        assert prod_instance.event_log_storage.get_concurrency_info(pool).slot_count == limit
    assert sorted(prod_instance.get_dynamic_partitions("shots")) == ["mini|s001", "mini|s002", "mini|s003"]

    @dg.asset
    def hello() -> None:  # (string annotations from __future__ are rejected on `context`)
        print("stdout from a step")

    result = dg.materialize([hello], instance=prod_instance)
    assert result.success
    logs = _keys(s3, f"dagster/compute-logs/storage/{result.run_id}/")
    assert logs, "step stdout/stderr were not shipped to the bucket"
    body = b"".join(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in logs if k.endswith(".out"))
    assert b"stdout from a step" in body


def test_episode_through_postgres_with_media_on_s3(
    project: Any, prod_instance: dg.DagsterInstance, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    from tests.test_dagster_pipeline import _materialize_episode

    monkeypatch.setenv("VIDPIPE_S3_BUCKET", BUCKET)
    monkeypatch.setenv("VIDPIPE_S3_PREFIX", "media")
    results = _materialize_episode(project, prod_instance)
    failed = [k for k, r in results.items() if not r.success]
    assert not failed and "cut" in results, f"runs failed: {failed}"
    shots = ["s001", "s002", "s003"]

    # media: every output under the key its local path implies
    keys = _keys(s3, "media/")
    expected = {"media/mini/final.mp4", "media/mini/delivery.mp4"} | {f"media/mini/shots/{s}/clip.mp4" for s in shots}
    assert expected <= keys, f"missing objects: {sorted(expected - keys)}"
    assert "media/mini/shots/s002/still.png" in keys  # the image-to-video shot's first frame
    assert any(k.startswith("media/mini/shots/s001/review/") and k.endswith("contact_sheet.jpg") for k in keys)
    final_meta = _materialization_meta(prod_instance, "final_cut", "mini")
    assert final_meta["uri"] == f"s3://{BUCKET}/media/mini/final.mp4"
    s001 = "mini|s001"
    clip_meta = _materialization_meta(prod_instance, "shot_clip", s001)
    assert clip_meta["uri"] == f"s3://{BUCKET}/media/mini/shots/s001/clip.mp4"

    # runs and materializations: in Postgres, read back with plain SQL (what the webserver and daemon see)
    engine = sa.create_engine(prod_instance.run_storage.postgres_url)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT status, count(*) FROM runs GROUP BY status")).all()
        mats = dict(conn.execute(sa.text(
            "SELECT asset_key, count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
            "GROUP BY asset_key")).all())
        parts = conn.execute(sa.text(
            "SELECT partitions_def_name, count(*) FROM dynamic_partitions GROUP BY partitions_def_name")).all()
    engine.dispose()
    assert dict(runs) == {"SUCCESS": len(results)}  # spec + one per shot + the cut
    by_name = {json_key(k): n for k, n in mats.items()}
    assert by_name["shot_clip"] == 3 and by_name["final_cut"] == 1 and by_name["delivery"] == 1
    assert dict(parts) == {"episodes": 1, "shots": 3}

    # step logs of every run went to the bucket
    for r in results.values():
        assert _keys(s3, f"dagster/compute-logs/storage/{r.run_id}/"), f"no compute logs for run {r.run_id}"


def json_key(raw: str) -> str:
    """asset_key column → the asset name (stored as a JSON list, e.g. '["final_cut"]')."""
    import json

    return "/".join(json.loads(raw))


def _materialization_meta(instance: dg.DagsterInstance, asset: str, partition: Any) -> dict[str, Any]:
    rec = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[str(partition)]), limit=1
    ).records[0]
    mat = rec.asset_materialization
    assert mat is not None
    return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
