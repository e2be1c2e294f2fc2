"""The Kubernetes deployment (deploy/helm/) runs what the local production cluster runs, as safely.

The values are read as Rasa's charts use them (chart rasa 1.17.3, rasa-action-server 1.0.7): the endpoints
and credentials the chart's ConfigMap would hold are compared with deploy/endpoints.yml and
deploy/credentials.yml, which the local cluster (liptwitch/operations/cluster.py) runs with.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml

from liptwitch.operations import cluster
from liptwitch.tools.channel_credentials import VARIABLE, sections
from tests.helpers import REPO

DEPLOY = REPO / "deploy"
HELM = DEPLOY / "helm"
RASA = yaml.safe_load((HELM / "rasa-values.yaml").read_text())
ACTIONS = yaml.safe_load((HELM / "action-server-values.yaml").read_text())
POLICIES = list(yaml.safe_load_all((HELM / "network-policy.yaml").read_text()))
WEBHOOKS_INGRESS = yaml.safe_load((HELM / "webhooks-ingress.yaml").read_text())
ENDPOINTS = yaml.safe_load((DEPLOY / "endpoints.yml").read_text())
CREDENTIALS_TEXT = (DEPLOY / "credentials.yml").read_text()
CREDENTIALS = yaml.safe_load(CREDENTIALS_TEXT)
# The release names of the install commands in deploy/helm/README.md, by chart.
RELEASES = {chart: release for release, chart in
            re.findall(r"helm install (\S+) rasa/(\S+)", (HELM / "README.md").read_text())}

PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
SENSITIVE = re.compile(r"password|secret|token", re.IGNORECASE)
SECRET_REFERENCE_KEY = re.compile(r"existingSecret\w*|secretName")  # name a Secret, or a key inside one
# The keys the chart's own values.yaml gives these endpoint sections: a key the project's values do not
# override (or remove with null) ends up in the rendered endpoints.yml.
CHART_DEFAULT_KEYS = {
    "trackerStore": {"enabled", "type", "dialect", "url", "port", "username", "password", "db", "login_db"},
    "lockStore": {"enabled", "type", "url", "port", "password", "db"},
}


def environment(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in values.get("extraEnv") or []}


def chart_fullname(chart: str, values: dict[str, Any]) -> str:
    """The name of the chart's Deployment and Service (rasa-common's names.fullname)."""
    if values.get("fullnameOverride"):
        return values["fullnameOverride"]
    release, name = RELEASES[chart], values.get("nameOverride") or chart
    return release if name in release else f"{release}-{name}"


def from_secret(variable: dict[str, Any] | None) -> bool:
    return bool(variable) and "secretKeyRef" in (variable.get("valueFrom") or {})


def rendered_endpoints(values: dict[str, Any]) -> dict[str, Any]:
    """The endpoints.yml the chart's ConfigMap holds (templates/config-map.yaml)."""
    endpoints = values["applicationSettings"]["endpoints"]
    assert not endpoints["models"]["enabled"], "the model is in the image: no model server"
    rendered: dict[str, Any] = {}
    for section, name in (("trackerStore", "tracker_store"), ("lockStore", "lock_store")):
        settings = endpoints[section]
        if settings["enabled"]:
            keys = (CHART_DEFAULT_KEYS[section] | set(settings)) - {"enabled"}
            rendered[name] = {key: settings.get(key, "<the chart's default>") for key in keys
                              if key not in settings or settings[key] is not None}
    assert not endpoints["eventBroker"]["enabled"]
    action_server = RASA["rasa-action-server"]
    assert not action_server["install"] and not action_server["external"]["enabled"], \
        "the chart's own action_endpoint has no headers: it must stay off beside additionalEndpoints"
    rendered.update(endpoints["additionalEndpoints"])
    return rendered


def assert_same_meaning(local: Any, kubernetes: Any, where: str) -> None:
    """Same keys and values; a ${VAR} may name another variable (the chart's DB_* for POSTGRES_*)."""
    if isinstance(local, dict):
        assert isinstance(kubernetes, dict) and set(kubernetes) == set(local), \
            f"{where}: keys {sorted(kubernetes or {})} instead of {sorted(local)}"
        for key in local:
            assert_same_meaning(local[key], kubernetes[key], f"{where}.{key}")
    elif isinstance(local, str) and PLACEHOLDER.fullmatch(local):
        assert isinstance(kubernetes, str) and PLACEHOLDER.fullmatch(kubernetes), \
            f"{where}: {kubernetes!r} should come from the environment, as {local}"
    else:
        assert str(kubernetes) == str(local), f"{where}: {kubernetes!r} instead of {local!r}"


def channels(credentials: dict[str, Any]) -> dict[str, Any]:
    return {name: settings or {} for name, settings in credentials.items()}  # `rest:` and `rest: {}` alike


def rasa_run(values: dict[str, Any]) -> list[str]:
    """The `rasa run ...` words of the container's command line (Rasa's command line through the project's
    entry point, which applies its patches first)."""
    words = shlex.split(" ".join(values["args"]))
    start = next(i for i in range(len(words) - 1) if words[i:i + 2] == ["liptwitch.rasa_server", "run"])
    end = next((i for i in range(start, len(words)) if words[i] in ("&&", ";", "||")), len(words))
    return words[start:end]


def option(words: list[str], name: str) -> list[str]:
    """The values that follow `name` on a command line (none when it is absent)."""
    if name not in words:
        return []
    values = []
    for word in words[words.index(name) + 1:]:
        if word.startswith("-"):
            break
        values.append(word)
    return values


def api_problems(words: list[str], env: dict[str, dict[str, Any]]) -> list[str]:
    """What is wrong with how Rasa's HTTP API is turned on: off, or on with a JWT secret from a Secret."""
    if "--enable-api" not in words:
        return []
    problems = []
    secret = option(words, "--jwt-secret")
    variable = re.fullmatch(r"\$\{?(\w+)\}?", secret[0]) if secret else None
    if not variable or not from_secret(env.get(variable[1])):
        problems.append("--enable-api needs --jwt-secret \"$VAR\", VAR read from a Kubernetes Secret")
    if option(words, "--jwt-method") != ["HS256"]:
        problems.append("--enable-api needs --jwt-method HS256")
    if "--auth-token" in words:
        problems.append("--auth-token is a shared token in plain sight: use the JWT only")
    return problems


def inline_secrets(node: Any, where: str = "") -> list[str]:
    """Places where a password, secret or token is written as a literal instead of referenced."""
    found = []
    if isinstance(node, dict):
        name = node.get("name")
        if isinstance(name, str) and "value" in node and SENSITIVE.search(name) and node["value"]:
            found.append(f"{where}: environment variable {name} has a literal value, not a secretKeyRef")
        for key, value in node.items():
            here = f"{where}.{key}" if where else str(key)
            if key == "secretKeyRef" or SECRET_REFERENCE_KEY.fullmatch(str(key)):
                continue
            literal = isinstance(value, str | int | float) and not isinstance(value, bool)
            if SENSITIVE.search(str(key)) and literal and value != "" and not PLACEHOLDER.fullmatch(str(value)):
                found.append(f"{here}: a literal where a ${{VAR}} or a Secret belongs")
            found += inline_secrets(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += inline_secrets(item, f"{where}[{index}]")
    return found


def dockerfile(name: str) -> str:
    return (HELM / name).read_text()


def pins(path: str) -> dict[str, str]:
    found = {}
    for line in (REPO / path).read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
        if match:
            found[match[1].lower().replace("_", "-")] = match[2]
    return found


# -- scale --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("values", [RASA, ACTIONS], ids=["rasa", "action-server"])
def test_two_replicas_of_each_server(values):
    assert values["replicaCount"] == 2
    assert values["autoscaling"]["enabled"] is False  # the chart ignores replicaCount when it is on


# -- the same configuration as the local cluster ---------------------------------------------------------------

def test_store_settings_are_strings_as_the_charts_schema_requires():
    # charts/rasa/values.schema.json types each tracker and lock store setting as a string: `db: 1` fails
    # `helm install` before anything starts.
    for section in ("trackerStore", "lockStore"):
        for key, value in RASA["applicationSettings"]["endpoints"][section].items():
            assert key == "enabled" or value is None or isinstance(value, str), f"{section}.{key}: {value!r}"


def test_endpoints_mean_what_deploy_endpoints_yml_says():
    rendered = rendered_endpoints(RASA)
    assert set(rendered) == set(ENDPOINTS)
    for section in ENDPOINTS:
        assert_same_meaning(ENDPOINTS[section], rendered[section], section)
    # The points that matter most, spelled out.
    assert rendered["tracker_store"]["type"] == ENDPOINTS["tracker_store"]["type"]
    assert rendered["lock_store"]["type"] == ENDPOINTS["lock_store"]["type"]
    assert set(rendered["action_endpoint"]["headers"]) == set(ENDPOINTS["action_endpoint"]["headers"])
    assert rendered["action_endpoint"]["enable_selective_domain"] is \
        ENDPOINTS["action_endpoint"]["enable_selective_domain"]


def test_the_comparison_notices_a_different_store_or_a_literal_password():
    with pytest.raises(AssertionError, match="type"):
        assert_same_meaning({"type": "liptwitch.rasa_server.lock_store.AtomicRedisLockStore"},
                            {"type": "redis"}, "lock_store")
    with pytest.raises(AssertionError, match="environment"):
        assert_same_meaning({"password": "${REDIS_PASSWORD}"}, {"password": "hunter2"}, "lock_store")
    with pytest.raises(AssertionError, match="keys"):
        assert_same_meaning({"url": "${X}", "db": 1}, {"url": "${X}", "db": 1, "login_db": "${X}"}, "tracker_store")


def test_channels_are_those_of_deploy_credentials_yml():
    assert RASA["applicationSettings"]["credentials"]["enabled"] is True
    assert channels(RASA["applicationSettings"]["credentials"]["additionalChannelCredentials"]) == \
        channels(CREDENTIALS)


def test_every_variable_the_configuration_names_reaches_the_rasa_container():
    # Rasa refuses to start on an unset ${VAR} in endpoints.yml; the platforms' ones may be unset (see below).
    text = yaml.safe_dump(rendered_endpoints(RASA)) + \
        yaml.safe_dump(RASA["applicationSettings"]["credentials"]["additionalChannelCredentials"])
    named = set(VARIABLE.findall(text))
    given = set(environment(RASA))
    if RASA["postgresql"]["external"]["enabled"] or RASA["postgresql"]["install"]:
        given |= {"DB_HOST", "DB_PORT", "DB_USER", "DB_DATABASE", "DB_PASSWORD"}  # rasa-common's psql.envs
    if RASA["redis"]["external"]["enabled"] or RASA["redis"]["install"]:
        given |= {"REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD"}  # rasa-common's redis.envs
    assert named <= given, f"not in the container's environment: {sorted(named - given)}"


def test_platforms_without_their_secrets_are_left_out_at_start_up_as_in_make_cluster():
    # The command runs liptwitch.tools.channel_credentials on the chart's credentials before Rasa reads them, and
    # each platform variable is optional, so a Secret without a platform's keys turns that platform off.
    command = " ".join(RASA["args"])
    assert RASA["command"][:2] == ["/bin/bash", "-c"]
    assert "python -m liptwitch.tools.channel_credentials /app/credentials.yml /tmp/credentials.yml &&" in command
    assert option(rasa_run(RASA), "--credentials") == ["/tmp/credentials.yml"]
    assert option(rasa_run(RASA), "--endpoints") == ["/app/endpoints.yml"]  # the chart's ConfigMap
    env = environment(RASA)
    for platform in (channel for channel in sections(CREDENTIALS_TEXT)[1] if channel.variables):
        for variable in platform.variables:
            assert env[variable]["valueFrom"]["secretKeyRef"].get("optional") is True, variable


def test_the_model_is_the_one_baked_into_the_rasa_image():
    settings = RASA["applicationSettings"]
    # Else the chart downloads its demo model from GitHub and mounts an empty directory over /app/models.
    assert not settings["initialModel"] and settings["trainInitialModel"] is False
    model = option(rasa_run(RASA), "--model")
    relative = cluster.MODEL.relative_to(REPO).as_posix()
    assert model == [f"/app/{relative}"]
    assert f"COPY --chown=1001:0 {relative} /app/{relative}" in dockerfile("Dockerfile.rasa")


@pytest.mark.parametrize(("name", "image", "package"), [("Dockerfile.rasa", "rasa/rasa", "rasa"),
                                                        ("Dockerfile.actions", "rasa/rasa-sdk", "rasa-sdk")])
def test_images_are_built_on_the_pinned_versions(name, image, package):
    text = dockerfile(name)
    assert f"FROM {image}:{pins('requirements.txt')[package]}\n" in text
    constraints = pins("constraints.txt")
    installed = re.findall(r"([A-Za-z0-9_.\-]+)==(\S+)", text.split("pip install", 1)[1].split("&&", 1)[0])
    assert installed
    for package_name, version in installed:
        assert constraints[package_name.lower().replace("_", "-")] == version, package_name


def test_the_action_servers_code_and_knowledge_base_are_in_their_image():
    text = dockerfile("Dockerfile.actions")
    for path in ("actions/", "liptwitch/", "data/knowledge_base/"):
        assert f"COPY --chown=1001:0 {path} /app/{path}" in text
    assert ACTIONS["args"][:3] == ["start", "--actions", "actions"]


# -- security -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("document", ["rasa-values.yaml", "action-server-values.yaml", "network-policy.yaml",
                                      "webhooks-ingress.yaml"])
def test_no_secret_is_written_in_the_deployment_files(document):
    for part in yaml.safe_load_all((HELM / document).read_text()):
        assert inline_secrets(part) == []


def test_the_secret_check_finds_literals_and_accepts_references():
    assert inline_secrets({"lockStore": {"password": "hunter2"}})
    assert inline_secrets({"headers": {"X-Action-Token": "abc123"}})
    assert inline_secrets({"extraEnv": [{"name": "LIPTWITCH_ACTION_TOKEN", "value": "abc123"}]})
    assert inline_secrets({"applicationSettings": {"token": "rasaToken"}})
    assert not inline_secrets({"password": "${DB_PASSWORD}", "existingSecret": "liptwitch-postgresql",
                               "existingSecretPasswordKey": "password",
                               "extraEnv": [{"name": "X_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s",
                                                                                               "key": "token"}}}]})


def test_the_http_api_is_off_or_protected_by_a_jwt_from_a_secret():
    assert RASA["applicationSettings"]["enableAPI"] is False
    # The chart's default command would add --auth-token with the chart's well-known default token.
    assert RASA["command"] and RASA["args"]
    assert api_problems(rasa_run(RASA), environment(RASA)) == []


def test_the_api_check_refuses_an_api_without_jwt_or_with_a_literal_secret():
    env = {"LIPTWITCH_JWT_SECRET": {"name": "LIPTWITCH_JWT_SECRET",
                                    "valueFrom": {"secretKeyRef": {"name": "liptwitch-secrets", "key": "jwt"}}}}
    good = ["rasa", "run", "--enable-api", "--jwt-secret", "$LIPTWITCH_JWT_SECRET", "--jwt-method", "HS256"]
    assert api_problems(good, env) == []
    assert api_problems(["rasa", "run", "--enable-api"], env)
    assert api_problems(["rasa", "run", "--enable-api", "--jwt-secret", "abc", "--jwt-method", "HS256"], env)
    assert api_problems([*good, "--auth-token", "rasaToken"], env)
    assert api_problems(good, {})


def test_logs_stay_at_info_so_that_no_message_text_is_logged():
    assert RASA["applicationSettings"]["debugMode"] is False
    assert not {"-vv", "--debug"} & set(rasa_run(RASA))
    assert environment(RASA)["LOG_LEVEL"]["value"] == "INFO"
    assert not {"-vv", "--debug"} & set(ACTIONS["args"])
    assert "LOG_LEVEL" not in environment(ACTIONS) or environment(ACTIONS)["LOG_LEVEL"]["value"] != "DEBUG"


def test_telemetry_is_off_and_locks_last_as_in_the_local_cluster():
    assert RASA["applicationSettings"]["telemetry"]["enabled"] is False
    assert "RASA_TELEMETRY_ENABLED" not in environment(RASA)  # the chart sets it from telemetry.enabled
    assert environment(RASA)["TICKET_LOCK_LIFETIME"]["value"] == str(cluster.TICKET_LOCK_LIFETIME)


def test_only_the_rasa_pods_reach_the_action_servers():
    assert ACTIONS["service"]["type"] == "ClusterIP" and ACTIONS["ingress"]["enabled"] is False
    port = ACTIONS["applicationSettings"]["port"]
    # The chart names the Service after the release of the README's install command.
    assert environment(RASA)["LIPTWITCH_ACTION_URL"]["value"] == \
        f"http://{chart_fullname('rasa-action-server', ACTIONS)}:{ACTIONS['service']['port']}/webhook"
    policy = next(p for p in POLICIES
                  if p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "rasa-action-server")
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == \
        RELEASES["rasa-action-server"]
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "rasa",
                                                             "app.kubernetes.io/instance": RELEASES["rasa"]}}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": port}]


def test_the_rasa_pods_take_requests_from_the_ingress_controller_and_rest_clients_only():
    policy = next(p for p in POLICIES if p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "rasa")
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == RELEASES["rasa"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": RASA["applicationSettings"]["port"]}]
    assert all(source.keys() <= {"namespaceSelector", "podSelector"} and "ipBlock" not in source
               for source in rule["from"])


# -- what people and platforms reach ---------------------------------------------------------------------------

def test_the_chat_socket_is_sticky_rate_limited_size_limited_and_cors_limited():
    ingress = RASA["ingress"]
    annotations = ingress["annotations"]
    assert ingress["enabled"] is True and ingress["path"] == "/socket.io/"
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(annotations["nginx.ingress.kubernetes.io/limit-rps"]) > 0
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "16k"  # as deploy/nginx.conf.template
    assert annotations["nginx.ingress.kubernetes.io/enable-cors"] == "true"
    origins = {o.strip() for o in annotations["nginx.ingress.kubernetes.io/cors-allow-origin"].split(",")}
    assert "*" not in origins
    # The browser's CORS check (ingress), Rasa's (--cors) and the socket's (LIPTWITCH_CORS_ORIGINS) agree.
    assert set(option(rasa_run(RASA), "--cors")) == origins
    assert set(environment(RASA)["LIPTWITCH_CORS_ORIGINS"]["value"].split(",")) == origins
    assert RASA["applicationSettings"]["cors"] == ",".join(sorted(origins))


def test_the_platforms_webhooks_are_public_and_the_rest_channel_and_api_are_not():
    platforms = {f"/webhooks/{channel.label.lower()}/" for channel in sections(CREDENTIALS_TEXT)[1]
                 if channel.variables and channel.label != "Rest"}
    (rule,) = WEBHOOKS_INGRESS["spec"]["rules"]
    assert rule["host"] == RASA["ingress"]["hostname"]
    paths = rule["http"]["paths"]
    assert {path["path"] for path in paths} == platforms
    assert {path["backend"]["service"]["name"] for path in paths} == {chart_fullname("rasa", RASA)}
    public = [RASA["ingress"]["path"], *platforms, *(p["path"] for p in RASA["ingress"].get("extraPaths") or [])]
    for private in ("/webhooks/rest/webhook", "/conversations/x/tracker", "/model", "/status"):
        assert not any(private.startswith(prefix) for prefix in public), private


def test_probes_ask_each_server_whether_it_answers():
    for probe in (RASA["readinessProbe"], RASA["livenessProbe"]):
        assert probe["httpGet"] == {"path": "/", "port": "http", "scheme": "HTTP"}
    # Rasa answers only once the model is loaded: liveness must wait longer than that.
    assert RASA["livenessProbe"]["initialDelaySeconds"] >= 120
    for probe in (ACTIONS["readinessProbe"], ACTIONS["livenessProbe"]):
        assert probe["httpGet"]["path"] == "/health"
    assert RASA["resources"]["requests"]["memory"] == "1536Mi"
