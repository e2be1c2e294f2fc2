"""The cluster's configuration as liptwitch/operations/cluster.py writes it, checked without starting the cluster:
nginx accepts it (`nginx -t`), the HTTP API is off unless asked for, secrets are created once and private."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess

import pytest

from liptwitch.operations.cluster import Cluster, load_secrets

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_accepts(cluster: Cluster) -> subprocess.CompletedProcess:
    for directory in (cluster.logs, cluster.run_dir):
        directory.mkdir(parents=True, exist_ok=True)
    config = cluster.run_dir / "nginx.conf"
    config.write_text(cluster.nginx_config())
    return subprocess.run([NGINX, "-t", "-p", str(cluster.run_dir), "-c", str(config), "-e",
                           str(cluster.logs / "nginx-error.log")], capture_output=True, text=True)


@pytest.mark.parametrize("enable_api", [False, True])
def test_nginx_accepts_the_configuration_and_the_http_api_is_there_only_when_asked_for(tmp_path, enable_api):
    cluster = Cluster(tmp_path, public_port=18080, enable_api=enable_api, unlimited=("127.0.0.1",))
    checked = nginx_accepts(cluster)
    assert checked.returncode == 0, checked.stderr
    config = cluster.nginx_config()
    assert not re.search(r"@[A-Z_]+@", config)  # every placeholder filled in
    assert ("location ~ ^/(conversations|model|status|version|domain)" in config) is enable_api
    rasa = cluster._rasa_process(0).command
    assert ("--enable-api" in rasa) is enable_api
    if enable_api:  # never without JWT
        assert rasa[rasa.index("--jwt-secret") + 1] == cluster.secrets["LIPTWITCH_JWT_SECRET"]
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    assert rasa[rasa.index("--cors") + 1:rasa.index("--cors") + 3] == ["http://localhost:18080",
                                                                      "http://127.0.0.1:18080"]


def test_a_broken_template_is_refused_by_nginx(tmp_path):
    cluster = Cluster(tmp_path)
    cluster.nginx_config = lambda: Cluster.nginx_config(cluster).replace("limit_req_zone", "limit_req_zone_typo", 1)
    assert nginx_accepts(cluster).returncode != 0


def test_secrets_are_created_once_private_and_the_environment_wins(tmp_path, monkeypatch):
    path = tmp_path / "secrets.env"
    first = load_secrets(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(set(first.values())) == len(first) and all(len(value) >= 32 for value in first.values())
    assert load_secrets(path) == first
    monkeypatch.setenv("LIPTWITCH_REST_TOKEN", "from-the-environment")
    assert load_secrets(path)["LIPTWITCH_REST_TOKEN"] == "from-the-environment"


def test_the_configured_cors_origins_replace_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("LIPTWITCH_CORS_ORIGINS", "https://clinic.example, https://www.clinic.example")
    cluster = Cluster(tmp_path, public_port=18081)
    assert cluster.cors_origins == ("https://clinic.example", "https://www.clinic.example")
    assert cluster.rasa_environment["LIPTWITCH_CORS_ORIGINS"] == "https://clinic.example,https://www.clinic.example"


def test_servers_get_distinct_free_ports_below_the_kernels_range_for_outgoing_connections():
    """A port in the outgoing range can be taken by a client polling it (connected to itself) before the server
    binds it: the action server then failed to start in a test run."""
    import socket

    from liptwitch.operations.cluster import free_port, outgoing_ports

    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert all(10_000 <= port < outgoing_ports()[0] for port in ports)
    for port in ports[:5]:
        with socket.socket() as server:
            server.bind(("0.0.0.0", port))  # as the servers bind
