"""The production-like cluster on one machine, with one command (docs/operations.md):

    python -m liptwitch.operations.cluster [--port 8000] [--workdir build/cluster] [--enable-api]   (make cluster)

Everything listens on 127.0.0.1:

- PostgreSQL, the tracker store, and Redis, the lock store, from Debian's packages;
- two action servers (bound to loopback), reached only through nginx's action gateway, which checks the
  Rasa servers' token;
- two Rasa servers (deploy/endpoints.yml, deploy/credentials.yml);
- nginx in front (deploy/nginx.conf.template): the chat page, sticky socket.io, rate and size limits.

Secrets (database and Redis passwords, the action token, the REST token, the web session key, the JWT
secret) are created once in `<workdir>/secrets.env` (mode 0600); a variable set in the environment wins.
Conversations stay in `<workdir>/postgres` between runs. The tests (tests/cluster/) and the load test
(bench/load_test.py) start their own cluster with this module, on free ports, and kill parts of it.
"""

from __future__ import annotations

import argparse
import os
import pwd
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from liptwitch import settings
from liptwitch.operations.processes import (  # noqa: F401  (the tests and the load test take them from here)
    ClusterError,
    Process,
    free_port,
    http_ok,
    outgoing_ports,
    port_in_use,
    postgres_bin,
    program,
    wait_until_ready,
)

REPO = settings.REPO
DEPLOY = REPO / "deploy"
MODEL = REPO / "models" / "lip-twitch-guide.tar.gz"
RETENTION_INTERVAL = 24 * 3600  # seconds between two runs of the retention job while `make cluster` runs
TICKET_LOCK_LIFETIME = 20  # seconds a turn may hold its conversation's lock; a killed server's lock ends then
SECRET_NAMES = tuple(secret.name for secret in settings.CLUSTER_SECRETS)


def load_secrets(path: Path) -> dict[str, str]:
    """The cluster's secrets: from the environment, else from `path`, else new ones written there (0600)."""
    stored: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, value = line.partition("=")
            if name.strip() in SECRET_NAMES and value.strip():
                stored[name.strip()] = value.strip()
    missing = [name for name in SECRET_NAMES if name not in stored]
    if missing:
        stored.update({name: secrets.token_hex(24) for name in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text("".join(f"{name}={stored[name]}\n" for name in SECRET_NAMES))
        path.chmod(0o600)
    return {secret.name: secret.read() or stored[secret.name] for secret in settings.CLUSTER_SECRETS}


class Cluster:
    """The whole cluster. `start()` brings it up (ready to answer), `stop()` stops everything."""

    def __init__(self, workdir: Path, public_port: int = 0, model: Path = MODEL, enable_api: bool = False,
                 rate: str = "10r/s", burst: int = 20, unlimited: tuple[str, ...] = (),
                 cors_origins: tuple[str, ...] = (), environment: dict[str, str] | None = None) -> None:
        self.workdir = workdir.resolve()
        self.public_port = public_port or free_port()
        self.model, self.enable_api, self.rate, self.burst = model, enable_api, rate, burst
        self.unlimited = unlimited
        self.url = f"http://127.0.0.1:{self.public_port}"
        # The browsers' origins allowed to talk to the Rasa servers (an embedding site adds its own).
        self.cors_origins = cors_origins or settings.cors_origins(self.public_port)
        self.extra_environment = environment or {}
        self.logs = self.workdir / "logs"
        self.run_dir = self.workdir / "run"
        self.secrets = load_secrets(self.workdir / "secrets.env")
        self.postgres_port, self.redis_port, self.gateway_port = free_port(), free_port(), free_port()
        self.rasa_ports = [free_port(), free_port()]
        self.action_ports = [free_port(), free_port()]
        self.database = "liptwitch"
        self.db_user = "liptwitch"
        self.postgres: Process | None = None
        self.redis: Process | None = None
        self.nginx: Process | None = None
        self.action_servers: list[Process] = []
        self.rasa_servers: list[Process] = []

    # -- the parts ---------------------------------------------------------------------------------------

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    @property
    def rasa_environment(self) -> dict[str, str]:
        return {
            "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(self.postgres_port), "POSTGRES_DB": self.database,
            "POSTGRES_USER": self.db_user, "POSTGRES_PASSWORD": self.secrets["POSTGRES_PASSWORD"],
            "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(self.redis_port),
            "REDIS_PASSWORD": self.secrets["REDIS_PASSWORD"],
            "LIPTWITCH_ACTION_URL": f"http://127.0.0.1:{self.gateway_port}/webhook",
            "LIPTWITCH_ACTION_TOKEN": self.secrets["LIPTWITCH_ACTION_TOKEN"],
            "LIPTWITCH_REST_TOKEN": self.secrets["LIPTWITCH_REST_TOKEN"],
            "LIPTWITCH_WEB_SECRET": self.secrets["LIPTWITCH_WEB_SECRET"],
            "LIPTWITCH_CORS_ORIGINS": ",".join(self.cors_origins),
            "TICKET_LOCK_LIFETIME": str(TICKET_LOCK_LIFETIME),
            "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            **self.extra_environment,
        }

    def _postgres_process(self) -> Process:
        data = self.workdir / "postgres"
        command = [str(postgres_bin() / "postgres"), "-D", str(data), "-p", str(self.postgres_port),
                   "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={data}",
                   # A failing statement is not logged with its text: it would hold what a person wrote.
                   "-c", "log_min_error_statement=panic", "-c", "max_connections=100"]
        # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for the Rasa servers to disconnect.
        return Process("PostgreSQL server", command, self.logs / "postgres.log", self._postgres_ready,
                       stop_signal=signal.SIGINT, user=_postgres_user())

    def _postgres_ready(self) -> bool:
        import psycopg2

        psycopg2.connect(host="127.0.0.1", port=self.postgres_port, user=self.db_user, dbname="postgres",
                         password=self.secrets["POSTGRES_PASSWORD"], connect_timeout=2).close()
        return True

    def _init_postgres(self) -> None:
        data = self.workdir / "postgres"
        if (data / "PG_VERSION").exists():
            _own_for_postgres(data)
            return
        data.mkdir(parents=True, exist_ok=True)
        _own_for_postgres(data)
        password_file = self.workdir / "postgres-initial-password"  # initdb wants an empty data directory
        password_file.touch(mode=0o600)
        password_file.write_text(self.secrets["POSTGRES_PASSWORD"] + "\n")
        _own_for_postgres(password_file)
        user = _postgres_user()
        result = subprocess.run([str(postgres_bin() / "initdb"), "-D", str(data), "-U", self.db_user,
                                 f"--pwfile={password_file}", "--auth=scram-sha-256", "--encoding=UTF8",
                                 "--no-instructions"], capture_output=True, text=True, user=user, group=user)
        password_file.unlink(missing_ok=True)
        if result.returncode != 0:
            raise ClusterError(f"initdb failed:\n{result.stdout}{result.stderr}")

    def _create_database(self) -> None:
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.postgres_port, user=self.db_user,
                                      dbname="postgres", password=self.secrets["POSTGRES_PASSWORD"])
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{self.database}"')
        connection.close()

    def _redis_process(self) -> Process:
        directory = self.workdir / "redis"
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "redis.conf"
        config.touch(mode=0o600)
        # Locks live a few seconds: nothing is written to disk. The password is in the file, not the command line.
        config.write_text(f"port {self.redis_port}\nbind 127.0.0.1\nprotected-mode yes\n"
                          f"requirepass {self.secrets['REDIS_PASSWORD']}\nsave \"\"\nappendonly no\n"
                          f"dir {directory}\nloglevel warning\n")
        return Process("Redis server", [program("redis-server"), str(config)], self.logs / "redis.log",
                       self._redis_ready)

    def _redis_ready(self) -> bool:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=self.redis_port, password=self.secrets["REDIS_PASSWORD"],
                                socket_timeout=2).ping())

    def _action_process(self, index: int) -> Process:
        port = self.action_ports[index]
        return Process(f"action server {index + 1}",
                       [str(REPO / ".venv" / "bin" / "rasa"), "run", "actions", "--actions", "actions",
                        "--port", str(port)],
                       self.logs / f"actions-{index + 1}.log", lambda: http_ok(f"http://127.0.0.1:{port}/health"),
                       {"SANIC_HOST": "127.0.0.1", "LIPTWITCH_ACTION_TOKEN": self.secrets["LIPTWITCH_ACTION_TOKEN"],
                        **self.extra_environment})

    def _rasa_process(self, index: int) -> Process:
        port = self.rasa_ports[index]
        command = [str(REPO / ".venv" / "bin" / "python"), "-m", "liptwitch.rasa_server", "run", "--model",
                   str(self.model), "--interface", "127.0.0.1", "--port", str(port),
                   "--endpoints", str(DEPLOY / "endpoints.yml"),
                   "--credentials", str(self.workdir / "credentials.yml"), "--cors", *self.cors_origins]
        if self.enable_api:
            command += ["--enable-api", "--jwt-secret", self.secrets["LIPTWITCH_JWT_SECRET"], "--jwt-method", "HS256"]
        return Process(f"Rasa server {index + 1}", command, self.logs / f"rasa-{index + 1}.log",
                       lambda: http_ok(f"http://127.0.0.1:{port}/"), self.rasa_environment)

    def _nginx_process(self) -> Process:
        config = self.run_dir / "nginx.conf"
        config.touch(mode=0o600)
        config.write_text(self.nginx_config())
        return Process("nginx", [program("nginx"), "-p", str(self.run_dir), "-c", str(config), "-e",
                                 str(self.logs / "nginx-error.log"), "-g", "daemon off;"],
                       self.logs / "nginx.log", lambda: http_ok(f"{self.url}/config.js"))

    def nginx_config(self) -> str:
        unlimited = "".join(f'    {address} "";\n' for address in self.unlimited).rstrip("\n")
        api = ("    # Rasa's HTTP API, asked for with --enable-api: every request needs a JWT (Rasa checks it).\n"
               "    location ~ ^/(conversations|model|status|version|domain)(/|$) {\n"
               f"      limit_req zone=per_client burst={self.burst} nodelay;\n"
               f"      include {DEPLOY}/nginx-rasa-proxy.conf;\n    }}") if self.enable_api else \
              "    # Rasa's HTTP API is off (make cluster ENABLE_API=1 turns it on, JWT-protected)."
        values = {
            "LOGS": str(self.logs), "RUN": str(self.run_dir), "WWW": str(self.workdir / "www"),
            "DEPLOY": str(DEPLOY), "PUBLIC_PORT": str(self.public_port), "ACTION_GATEWAY_PORT": str(self.gateway_port),
            "MAX_BODY": "16k", "RATE": self.rate, "BURST": str(self.burst), "UNLIMITED": unlimited,
            "RASA_SERVERS": "\n".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;"
                                      for port in self.rasa_ports),
            # Never marked down: a refused connection on loopback costs nothing, and an action server that is
            # back is used at once (with max_fails, nginx would answer "unavailable" for fail_timeout more).
            "ACTION_SERVERS": "\n".join(f"    server 127.0.0.1:{port} max_fails=0;" for port in self.action_ports),
            "REST_TOKEN": self.secrets["LIPTWITCH_REST_TOKEN"], "ACTION_TOKEN": self.secrets["LIPTWITCH_ACTION_TOKEN"],
            "HTTP_API": api,
        }
        text = (DEPLOY / "nginx.conf.template").read_text()
        for name, value in values.items():
            text = text.replace(f"@{name}@", value)
        return text

    def _write_page(self) -> None:
        www = self.workdir / "www"
        subprocess.run([str(REPO / ".venv" / "bin" / "python"), str(REPO / "web" / "serve.py"), "--export", str(www)],
                       check=True, cwd=REPO)
        for path in [www, *www.rglob("*")]:  # nginx's workers read it as nobody
            path.chmod(0o755 if path.is_dir() else 0o644)

    def _write_credentials(self) -> None:
        public_url = settings.PUBLIC_URL.read() or self.url
        result = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-m", "liptwitch.tools.channel_credentials",
                                 str(DEPLOY / "credentials.yml"), str(self.workdir / "credentials.yml")],
                                cwd=REPO, capture_output=True, text=True,
                                env={**os.environ, "LIPTWITCH_PUBLIC_URL": public_url,
                                     "LIPTWITCH_REST_TOKEN": self.secrets["LIPTWITCH_REST_TOKEN"],
                                     **self.extra_environment})
        if result.returncode != 0:
            raise ClusterError(f"the channel credentials could not be written:\n{result.stdout}{result.stderr}")
        self.credentials_report = result.stdout

    # -- the whole -------------------------------------------------------------------------------------

    def start(self, log: Callable[[str], None] = lambda line: None) -> None:
        if not self.model.exists():
            raise ClusterError(f"{self.model} is missing: run `make train` first")
        if port_in_use(self.public_port):
            raise ClusterError(f"port {self.public_port} is already in use (another cluster?): stop it or choose "
                               "another port (make cluster PORT=...)")
        for directory in (self.logs, self.run_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)  # PostgreSQL (as postgres) and nginx's workers (as nobody) go through it
        try:
            log("==> Starting PostgreSQL, Redis and the two action servers")
            self._init_postgres()
            self.postgres, self.redis = self._postgres_process(), self._redis_process()
            self.action_servers = [self._action_process(i) for i in range(len(self.action_ports))]
            for process in (self.postgres, self.redis, *self.action_servers):
                process.start()
            self._write_page()
            self._write_credentials()
            wait_until_ready([self.postgres])
            self._create_database()
            log("==> Starting the two Rasa servers (about a minute) and nginx")
            self.rasa_servers = [self._rasa_process(i) for i in range(len(self.rasa_ports))]
            self.nginx = self._nginx_process()
            for process in (*self.rasa_servers, self.nginx):
                process.start()
            wait_until_ready([self.redis, *self.action_servers, self.nginx, *self.rasa_servers])
        except BaseException:
            self.stop()
            raise

    @property
    def processes(self) -> list[Process]:
        return [p for p in (self.nginx, *self.rasa_servers, *self.action_servers, self.redis, self.postgres) if p]

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def run_retention(self) -> str:
        """The retention job (liptwitch/operations/retention.py) on the cluster's database: conversations silent for
        longer than LIPTWITCH_RETENTION (default 30 days) are deleted. It prints counts only."""
        result = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-m", "liptwitch.operations.retention",
                                 "--endpoints", str(DEPLOY / "endpoints.yml")],
                                cwd=REPO, capture_output=True, text=True,
                                env={**os.environ, **self.rasa_environment})
        return (result.stdout or result.stderr).strip()

    def restart(self, process: Process) -> None:
        """Stops `process` (SIGTERM) and starts it again, waiting until it answers."""
        process.stop()
        process.start()
        wait_until_ready([process])

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _postgres_user() -> str | None:
    """PostgreSQL refuses to run as root: when we are root, it runs as Debian's `postgres` user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as error:
        raise ClusterError("running as root, PostgreSQL needs the `postgres` user: run `make cluster-packages`") \
            from error
    return "postgres"


def _own_for_postgres(directory: Path) -> None:
    user = _postgres_user()
    if user:
        owner = pwd.getpwnam(user)
        for path in [directory, *directory.rglob("*")]:
            os.chown(path, owner.pw_uid, owner.pw_gid)
        directory.chmod(0o700 if directory.is_dir() else 0o600)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Run the production-like cluster on 127.0.0.1 (Ctrl-C stops it).")
    parser.add_argument("--port", type=int, default=int(settings.CLUSTER_PORT.read()), help="nginx's public port")
    parser.add_argument("--workdir", type=Path, default=REPO / "build" / "cluster",
                        help="PostgreSQL data, logs, secrets (kept between runs)")
    parser.add_argument("--enable-api", action="store_true", default=settings.ENABLE_API.read() in ("1", "true"),
                        help="turn on Rasa's HTTP API, protected by JWT (secret in <workdir>/secrets.env)")
    parser.add_argument("--rate", default=settings.RATE_LIMIT.read(),
                        help="per-client request rate at nginx (nginx syntax, e.g. 10r/s)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port {args.port} is not a TCP port")
    cluster = Cluster(args.workdir, public_port=args.port, enable_api=args.enable_api, rate=args.rate)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        cluster.start(log=print)
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        print(cluster.credentials_report, end="")
        print(f"==> The Lip Twitch Guide cluster is running.\n"
              f"    Chat page:  http://localhost:{cluster.public_port}/\n"
              f"    REST (for trusted back ends): POST {cluster.url}/webhooks/rest/webhook with\n"
              f"                'Authorization: Bearer $LIPTWITCH_REST_TOKEN' (in {args.workdir}/secrets.env)\n"
              f"    HTTP API:   {'on, JWT-protected (LIPTWITCH_JWT_SECRET)' if args.enable_api else 'off'}\n"
              f"    Logs:       {cluster.logs}/\n"
              "    Press Ctrl-C to stop.", flush=True)
        reported: set[str] = set()
        next_retention = time.monotonic()
        while True:
            if time.monotonic() >= next_retention:
                print(f"==> Retention job: {cluster.run_retention()}", flush=True)
                next_retention = time.monotonic() + RETENTION_INTERVAL
            time.sleep(2)
            for process in cluster.processes:
                if not process.running and process.name not in reported:
                    reported.add(process.name)
                    print(f"warning: the {process.name} stopped (see {process.log}); the rest keeps running",
                          file=sys.stderr, flush=True)
    except (KeyboardInterrupt, SystemExit):
        print("\n==> Stopping the cluster")
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
