"""The Kubernetes manifests, rendered with a real kustomize and checked document by document.

Both overlays of ``deploy/k8s`` (and dev with the optional migration-jobs component) are
rendered from a temporary copy in which the dev overlay's git-ignored ``secrets.env`` and
``jwks.json`` are the committed examples: the developer's real secrets and keys are never read.
The checks: every service has its Deployment, Service, ServiceAccount, PodDisruptionBudget,
NetworkPolicy and ConfigMap; probes, security context and graceful shutdown; the
NetworkPolicies allow exactly what ``deploy/k8s/README.md`` says; every setting a service's
pydantic settings class needs is wired (plain values from its ConfigMap, secrets from the
Secret) and the rendered values parse; no secret value comes from git; the public key set
(``AUTH_JWKS``) is configuration every service gets, and a private key (``AUTH_SIGNING_KEY``)
is held by exactly the services that call others, each its own. The dev overlay is also
rendered with keys made as README says, and each call between services is checked with them:
the caller's token is accepted by the service it calls, and by no other.

kustomize comes from PATH when it is v5, otherwise it is installed once with ``go install``
into the git-ignored ``.tools/go/bin`` (about a minute the first time) and reused.
"""

from __future__ import annotations

import base64
import importlib
import ipaddress
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

import pytest
import yaml
from complaint_contracts import topics
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.errors import Unauthorized
from complaint_runtime.identity import ServiceCaller, TokenVerifier, issue_token
from complaint_runtime.signing_keys import SigningKey, TrustedKeys, service_of_kid
from pydantic import SecretStr
from pydantic_core import PydanticUndefined

STRONG_SUFFIX = "-9fQ2zL7pW4vR8tN1mB6cX0sD5gH3jAk"

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
DEV = K8S / "overlays" / "dev"
SECRETS_EXAMPLE = DEV / "secrets.env.example"
JWKS_EXAMPLE = DEV / "jwks.json.example"

KUSTOMIZE_MODULE = "sigs.k8s.io/kustomize/kustomize/v5"
KUSTOMIZE_VERSION = "v5.8.2"  # building it needs Go >= 1.26
GOBIN = ROOT / ".tools" / "go" / "bin"

NAMESPACE = "complaints"
SECRET_NAME = "complaints-secrets"
INGRESS_LABEL = "complaints.opencomplaints.org/ingress-controller"
HTTP_PORT = 8000

SERVICES = {  # name → (package, settings class)
    "intake": ("intake", "IntakeSettings"),
    "routing": ("routing", "RoutingSettings"),
    "sla-watch": ("sla_watch", "SlaSettings"),
    "feedback": ("feedback", "FeedbackSettings"),
    "notify": ("notify", "NotifySettings"),
    "console": ("console", "ConsoleSettings"),
}
# Settings that are secrets: wired from the Secret, never from a ConfigMap. Also any field
# typed SecretStr (notify's NOTIFY_ROBOTS: webhook URLs holding the robots' keys).
SECRET_FIELD = re.compile(r"secret|_key$|_token$|password|username|^database_url$")
# Secrets a service runs without: notify's SMTP login (none: no login); keys derived from the
# service's own AUTH_SIGNING_KEY when empty: notify's recipient hash key
# (notify/messages/service.py recipient_hash_key) and the console's session key
# (console/bootstrap.py session_secret).
OPTIONAL_SECRETS = {
    "smtp_username",
    "smtp_password",
    "notify_recipient_hash_key",
    "notify_webhook_secret_key",  # derived too (notify/webhooks/sealing.py sealing_key)
    "notify_reply_key",  # derived too (notify/replies/addressing.py reply_key)
    # Channels off without them: no SMS (NOTIFY_SMS_PROVIDER=none; aliyun without the key
    # stops notify at start-up, naming it), provider callbacks refused, no robots.
    "notify_sms_access_key_secret",
    "notify_sms_callback_token",
    "notify_robots",
    "console_session_secret",
}
# Token settings every service reads from its ConfigMap: public, never from the Secret.
TOKEN_CONFIG = (
    "AUTH_JWKS",
    "AUTH_JWKS_URL",
    "AUTH_PROVIDER_ISSUER",
    "AUTH_ISSUER",
    "AUTH_LEEWAY_S",
    "AUTH_TOKEN_TTL_S",
)
# A default naming the laptop (127.0.0.1, SQLite file) is wrong in a cluster: must be set.
LAPTOP_DEFAULT = re.compile(r"127\.0\.0\.1|localhost|sqlite")
# Who may call each service (README): the ingress controller, notify for internal APIs (and
# routing for intake's, a lead's reveal of a contact), the console for routing's and
# sla-watch's APIs (with the signed-in user's token).
INGRESS_PEERS = {
    "intake": {"ingress-controller", "notify", "routing"},
    "routing": {"ingress-controller", "console"},
    "sla-watch": {"ingress-controller", "console"},
    "feedback": {"ingress-controller", "notify"},
    "notify": {"ingress-controller"},
    "console": {"ingress-controller"},
}
# The synchronous calls between services: caller → {variable holding the URL: callee}.
CALLS = {
    "notify": {"INTAKE_INTERNAL_URL": "intake", "FEEDBACK_INTERNAL_URL": "feedback"},
    "routing": {"INTAKE_INTERNAL_URL": "intake"},
    "console": {"CONSOLE_ROUTING_URL": "routing", "CONSOLE_SLA_WATCH_URL": "sla-watch"},
}
# A caller's own private key (its AUTH_SIGNING_KEY) and the key of the Secret holding it: every
# service that calls another, and only those (intake, sla-watch and feedback call nobody).
SIGNING_KEYS = {
    "notify": "NOTIFY_SIGNING_KEY",
    "routing": "ROUTING_SIGNING_KEY",
    "console": "CONSOLE_SIGNING_KEY",
}
# The development issuer's key id (README: the dev sign-in's tokens).
DEV_ISSUER_KID = "dev-identity-provider"
# HTTPS egress (the console's OpenID Connect issuer; notify's SMS provider, robots and webhook
# receivers): in the base, any address but these.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16")
HTTPS = 443

OVERLAYS = ("dev", "production")
MIGRATIONS_VARIANT = "dev-with-migration-jobs"

Doc = dict[str, Any]


# ---- kustomize -------------------------------------------------------------------------------


def _version(binary: str | Path) -> str:
    try:
        out = subprocess.run(
            [str(binary), "version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return ""
    found = re.search(r"v\d+\.\d+\.\d+", out)
    return found.group(0) if found else ""


def _install_kustomize(say: Any) -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.fail(
            f"kustomize is not on PATH and Go is not installed, so {KUSTOMIZE_MODULE}@"
            f"{KUSTOMIZE_VERSION} cannot be built: install Go >= 1.26 (https://go.dev/dl/) or "
            "put a kustomize v5 binary on PATH",
            pytrace=False,
        )
    go_version = subprocess.run([go, "version"], capture_output=True, text=True).stdout.strip()
    say(
        f"kustomize is not on PATH: go install {KUSTOMIZE_MODULE}@{KUSTOMIZE_VERSION} into "
        f"{GOBIN.relative_to(ROOT)} with {go_version} (first run only, about a minute)"
    )
    GOBIN.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    process = subprocess.Popen(
        [go, "install", "-v", f"{KUSTOMIZE_MODULE}@{KUSTOMIZE_VERSION}"],
        env={**os.environ, "GOBIN": str(GOBIN)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output: list[str] = []
    built = 0
    for line in process.stdout:
        output.append(line.rstrip())
        if line.startswith("go: "):  # downloads, and errors such as a refusing proxy
            say(line.rstrip())
        else:  # -v: one line per package compiled
            built += 1
            if built % 50 == 0:
                say(f"compiled {built} packages ({time.monotonic() - started:.0f} s)")
    code = process.wait()
    binary = GOBIN / "kustomize"
    if code != 0 or not binary.exists():
        tail = "\n".join(output[-30:])
        pytest.fail(
            f"go install {KUSTOMIZE_MODULE}@{KUSTOMIZE_VERSION} failed (exit {code}):\n{tail}",
            pytrace=False,
        )
    say(f"installed kustomize {_version(binary)} in {time.monotonic() - started:.0f} s")
    return binary


@pytest.fixture(scope="session")
def kustomize(pytestconfig: pytest.Config) -> str:
    on_path = shutil.which("kustomize")
    if on_path and _version(on_path).startswith("v5."):
        return on_path
    cached = GOBIN / "kustomize"
    if cached.exists() and _version(cached) == KUSTOMIZE_VERSION:
        return str(cached)
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    def say(message: str) -> None:
        if capture is None:
            print(f"[kustomize] {message}", flush=True)
            return
        with capture.global_and_fixture_disabled():
            print(f"[kustomize] {message}", flush=True)

    return str(_install_kustomize(say))


# ---- rendering -------------------------------------------------------------------------------


def copy_without_local_files(tree: Path) -> Path:
    """deploy/k8s without the developer's own git-ignored files: secrets.env, private keys
    (*.jwk) and the dev overlay's jwks.json (production's is committed); returns the dev
    overlay of the copy."""

    def local(directory: str, names: list[str]) -> set[str]:
        own = {"secrets.env", "jwks.json"} if Path(directory) == DEV else {"secrets.env"}
        return {name for name in names if name in own or name.endswith(".jwk")}

    shutil.copytree(K8S, tree, ignore=local)
    return tree / "overlays" / "dev"


def build(kustomize: str, overlay: Path) -> list[Doc]:
    result = subprocess.run(
        [kustomize, "build", str(overlay)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"kustomize build {overlay.name} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="session")
def rendered(kustomize: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Doc]]:
    """Each overlay's documents, rendered from a copy where secrets.env and jwks.json are
    the examples."""
    tree = tmp_path_factory.mktemp("deploy") / "k8s"
    dev = copy_without_local_files(tree)
    shutil.copyfile(SECRETS_EXAMPLE, dev / "secrets.env")
    shutil.copyfile(JWKS_EXAMPLE, dev / "jwks.json")
    # dev with the optional component, as README shows enabling it (in the overlay itself).
    variant = tree / "overlays" / MIGRATIONS_VARIANT
    shutil.copytree(dev, variant)
    kustomization = yaml.safe_load((variant / "kustomization.yaml").read_text())
    kustomization["components"] = ["../../components/migration-jobs"]
    (variant / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return {
        overlay: build(kustomize, tree / "overlays" / overlay)
        for overlay in (*OVERLAYS, MIGRATIONS_VARIANT)
    }


def by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def get(docs: list[Doc], kind: str, name: str) -> Doc:
    found = by_kind(docs, kind)
    assert name in found, f"no {kind} {name!r}; there are {sorted(found)}"
    return found[name]


def pod_specs(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    """Every pod template: Deployments' and Jobs'."""
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    """A label selector (matchLabels / matchExpressions) against a pod's labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        value, operator = labels.get(expression["key"]), expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and value is None:
            return False
        if operator == "DoesNotExist" and value is not None:
            return False
    return True


def container(deployment: Doc) -> Doc:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def settings_class(service: str) -> Any:
    package, name = SERVICES[service]
    return getattr(importlib.import_module(f"{package}.config"), name)


def is_secret(name: str, info: Any) -> bool:
    """A setting wired from the Secret: by its name, or typed SecretStr."""
    return bool(SECRET_FIELD.search(name)) or SecretStr in (
        info.annotation,
        *get_args(info.annotation),
    )


def field_default(info: Any) -> Any:
    if info.default is not PydanticUndefined:
        return info.default
    if info.default_factory is not None:
        return info.default_factory()
    return PydanticUndefined


def wired_env(docs: list[Doc], spec: Doc) -> dict[str, dict[str, Any]]:
    """A container's environment: variable → {"value": ...} or {"secret": (name, key, opt)}."""
    env: dict[str, dict[str, Any]] = {}
    for source in spec.get("envFrom", []):
        assert set(source) == {"configMapRef"}, f"unexpected envFrom {source}"
        configmap = get(docs, "ConfigMap", source["configMapRef"]["name"])
        for key, value in configmap.get("data", {}).items():
            env[key] = {"value": value, "from": f"ConfigMap/{configmap['metadata']['name']}"}
    for item in spec.get("env", []):
        if "value" in item:
            env[item["name"]] = {"value": item["value"], "from": "env"}
            continue
        ref = item["valueFrom"]
        assert set(ref) == {"secretKeyRef"}, f"{item['name']}: unexpected valueFrom {ref}"
        secret = ref["secretKeyRef"]
        env[item["name"]] = {
            "secret": (secret["name"], secret["key"], bool(secret.get("optional", False)))
        }
    return env


# ---- every service's objects ------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_its_objects(
    rendered: dict[str, list[Doc]], overlay: str, service: str
) -> None:
    docs = rendered[overlay]
    deployment = get(docs, "Deployment", service)
    for kind in ("Service", "ServiceAccount", "PodDisruptionBudget", "NetworkPolicy"):
        get(docs, kind, service)
    refs = [s["configMapRef"]["name"] for s in container(deployment).get("envFrom", [])]
    assert len(refs) == 1, refs
    assert refs[0].startswith(f"{service}-config-"), refs
    get(docs, "ConfigMap", refs[0])


@pytest.mark.parametrize("overlay", [*OVERLAYS, MIGRATIONS_VARIANT])
def test_everything_in_the_namespace(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    namespace = get(docs, "Namespace", NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for doc in docs:
        if doc["kind"] != "Namespace":
            where = doc["metadata"].get("namespace")
            assert where == NAMESPACE, f"{doc['kind']}/{doc['metadata']['name']} in {where}"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_deployment_probes_shutdown_and_command(
    rendered: dict[str, list[Doc]], overlay: str, service: str
) -> None:
    deployment = get(rendered[overlay], "Deployment", service)
    pod = deployment["spec"]["template"]["spec"]
    spec = container(deployment)
    ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
    assert ports == {"http": HTTP_PORT}
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
        assert spec[probe]["httpGet"]["path"] == path, probe
    assert "httpGet" in spec["startupProbe"]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        port = spec[probe]["httpGet"]["port"]
        assert ports.get(port, port) == HTTP_PORT, f"{probe} probes port {port}"
    assert pod["terminationGracePeriodSeconds"] >= 30
    # The command starts this service's app factory on the container port.
    command = spec["command"]
    assert command[:3] == ["uvicorn", "--factory", f"{SERVICES[service][0]}.main:create_app"]
    assert command[command.index("--port") + 1] == str(HTTP_PORT)
    module, factory = command[2].split(":")
    assert callable(getattr(importlib.import_module(module), factory))
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(spec["resources"][kind]), f"resources.{kind}"
    image = spec["image"]
    assert ":" in image, image
    assert not image.endswith(":latest"), image


@pytest.mark.parametrize("overlay", [*OVERLAYS, MIGRATIONS_VARIANT])
def test_pods_run_restricted(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    accounts = by_kind(docs, "ServiceAccount")
    for where, template in pod_specs(docs):
        pod = template["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        assert pod["automountServiceAccountToken"] is False, where
        account = pod["serviceAccountName"]
        assert account == template["metadata"]["labels"]["app.kubernetes.io/name"], where
        assert accounts[account]["automountServiceAccountToken"] is False, where
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for spec in pod["containers"]:
            context = spec["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            tmp = [m for m in spec["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp, f"{where}: /tmp emptyDir"
            assert "emptyDir" in volumes[tmp[0]["name"]], f"{where}: /tmp emptyDir"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_service_and_budget_select_only_their_pods(
    rendered: dict[str, list[Doc]], overlay: str, service: str
) -> None:
    docs = rendered[overlay]
    pods = {
        name: d["spec"]["template"]["metadata"]["labels"]
        for name, d in by_kind(docs, "Deployment").items()
    }
    svc = get(docs, "Service", service)["spec"]
    assert svc.get("type", "ClusterIP") == "ClusterIP"
    assert [(p["port"], p["targetPort"]) for p in svc["ports"]] == [(80, "http")]
    assert {
        n for n, labels in pods.items() if selects({"matchLabels": svc["selector"]}, labels)
    } == {service}
    budget = get(docs, "PodDisruptionBudget", service)["spec"]
    assert {n for n, labels in pods.items() if selects(budget["selector"], labels)} == {service}
    assert "maxUnavailable" in budget or "minAvailable" in budget


# ---- settings: every one a service needs is wired, and the values parse ----------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_settings_are_wired(
    rendered: dict[str, list[Doc]],
    overlay: str,
    service: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = rendered[overlay]
    cls = settings_class(service)
    fields = cls.model_fields
    env = wired_env(docs, container(get(docs, "Deployment", service)))

    unknown = set(env) - {name.upper() for name in fields}
    assert not unknown, f"{service} is given variables its settings do not read: {unknown}"
    secrets = set(get_secret_names(docs))
    for name, info in fields.items():
        var, default = name.upper(), field_default(info)
        if name == "auth_signing_key" and service not in SIGNING_KEYS:
            assert var not in env, f"{service} calls no service, yet gets a private key"
            continue
        if is_secret(name, info):
            # Optional ones too (marked optional): an operator sets them in the Secret alone.
            assert var in env, f"{service}: secret {var} is not wired"
            assert "secret" in env[var], f"{service}: secret {var} comes from {env[var]['from']}"
            secret_name, _, optional = env[var]["secret"]
            assert optional == (name in OPTIONAL_SECRETS), f"{service}: {var} optional={optional}"
            if overlay == "production":  # provided by the secret manager under this name
                assert secret_name == SECRET_NAME, secret_name
            else:
                assert secret_name in secrets, f"{service}: {var} from missing Secret {secret_name}"
                data = get(docs, "Secret", secret_name)["data"]
                assert env[var]["secret"][1] in data, f"{service}: {var}: no such key"
        elif default is PydanticUndefined or LAPTOP_DEFAULT.search(str(default)):
            assert var in env, f"{service}: {var} must be set (default {default!r})"
            assert "value" in env[var]

    # The values as the pod sees them parse with the service's own settings class.
    settings = pod_settings(docs, service, monkeypatch)
    assert settings.service_name == service
    assert bool(settings.auth_signing_key) == (service in SIGNING_KEYS)
    assert settings.database_url == "test-database_url"  # from the Secret, not a default
    assert not LAPTOP_DEFAULT.search(settings.kafka_bootstrap_servers)
    assert settings.kafka_bootstrap_servers.endswith(":9092")  # the port NetworkPolicy allows


def own_key(service: str) -> SigningKey:
    """A key of the kind README has each caller make: ``service:<name>``, the console's
    ``console`` (a staff issuer)."""
    return DevIdentity.generate([service]).services[service]


def pod_settings(docs: list[Doc], service: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The service's settings from its container's environment as rendered: ConfigMap values
    as they are, a Secret's value as rendered when it has one, else as a secret manager would
    give it (long and random enough for the key checks of complaint_runtime.keys; a private
    key of the service's own kind for AUTH_SIGNING_KEY)."""
    cls = settings_class(service)
    env = wired_env(docs, container(get(docs, "Deployment", service)))
    for name in cls.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    for var, source in env.items():
        if "value" in source:
            monkeypatch.setenv(var, source["value"])
            continue
        secret_name, key, _ = source["secret"]
        data = by_kind(docs, "Secret").get(secret_name, {}).get("data", {})
        value = base64.b64decode(data.get(key) or "").decode()
        if not value and var == "AUTH_SIGNING_KEY":
            value = own_key(service).private_jwk()
        elif not value:
            value = f"test-{var.lower()}" + ("" if var == "DATABASE_URL" else STRONG_SUFFIX)
        monkeypatch.setenv(var, value)
    return cls()


def get_secret_names(docs: list[Doc]) -> list[str]:
    return list(by_kind(docs, "Secret"))


def assert_calls_its_service(docs: list[Doc], env: dict[str, dict[str, Any]], caller: str) -> None:
    """Each URL the caller calls is http://<Service>[.<namespace>[.svc...]] on port 80."""
    for var, target in CALLS[caller].items():
        url = urlsplit(env[var]["value"])
        host = (url.hostname or "").split(".")
        assert url.scheme == "http", f"{var}={url.geturl()}"
        assert host[0] == target, f"{var}={url.geturl()}"
        assert len(host) == 1 or host[1] == NAMESPACE, f"{var}={url.geturl()}"
        assert url.port in (None, 80), f"{var}={url.geturl()}"
        assert not url.path.strip("/"), f"{var}={url.geturl()}: a base URL, no path"
        get(docs, "Service", target)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_notify_reaches_intake_feedback_and_its_directory(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    from notify.messages.domain.directory import parse_directory

    docs = rendered[overlay]
    deployment = get(docs, "Deployment", "notify")
    env = wired_env(docs, container(deployment))
    assert_calls_its_service(docs, env, "notify")
    # The staff directory: a file mounted from a ConfigMap that parses.
    path = Path(env["NOTIFY_STAFF_DIRECTORY"]["value"])
    pod = deployment["spec"]["template"]["spec"]
    mount = next(
        m for m in container(deployment)["volumeMounts"] if m["mountPath"] == str(path.parent)
    )
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    configmap = get(docs, "ConfigMap", volume["configMap"]["name"])
    parse_directory(configmap["data"][path.name])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_routing_reaches_intake_for_a_revealed_contact(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    docs = rendered[overlay]
    env = wired_env(docs, container(get(docs, "Deployment", "routing")))
    assert_calls_its_service(docs, env, "routing")
    assert 0 < float(env["INTERNAL_HTTP_TIMEOUT_S"]["value"]) <= 30


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_console_reaches_routing_sla_watch_and_signs_in_safely(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    docs = rendered[overlay]
    env = wired_env(docs, container(get(docs, "Deployment", "console")))
    assert_calls_its_service(docs, env, "console")
    values = {var: source["value"] for var, source in env.items() if "value" in source}
    # The session cookie is Secure exactly when the console is served over HTTPS (a Secure
    # cookie over plain HTTP is never sent back: nobody could stay signed in).
    public = urlsplit(values["CONSOLE_PUBLIC_URL"])
    assert public.scheme in ("http", "https"), public.geturl()
    assert public.hostname, public.geturl()
    assert (values["CONSOLE_COOKIE_SECURE"] == "true") == (public.scheme == "https"), values
    # Its own body limit (1 MiB: above routing's), not common.env's 256 KiB.
    default = settings_class("console").model_fields["max_body_bytes"].default
    assert values["MAX_BODY_BYTES"] == str(default)
    if overlay == "production":
        # No pasted tokens, HTTPS only, and a way to sign in: the identity provider.
        assert values["CONSOLE_DEV_SIGN_IN"] == "false"
        assert values["CONSOLE_COOKIE_SECURE"] == "true"
        assert urlsplit(values["CONSOLE_OIDC_ISSUER"]).scheme == "https", values
        assert values["CONSOLE_OIDC_CLIENT_ID"], "no OIDC client id"
        assert env["CONSOLE_OIDC_CLIENT_SECRET"]["secret"][:2] == (
            SECRET_NAME,
            "CONSOLE_OIDC_CLIENT_SECRET",
        )
    # The session key is the console's own, shared by its replicas through the Secret.
    assert env["CONSOLE_SESSION_SECRET"]["secret"][1] == "CONSOLE_SESSION_SECRET"


# ---- tokens: the public key set for everyone, a private key for each caller ----------------


@pytest.mark.parametrize("overlay", [*OVERLAYS, MIGRATIONS_VARIANT])
def test_public_keys_for_every_service_private_keys_for_callers_only(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    docs = rendered[overlay]
    assert set(SIGNING_KEYS) == set(CALLS), "a caller without a key, or a key nobody calls with"
    key_sets: set[str] = set()
    held: dict[str, str] = {}
    for service in SERVICES:
        env = wired_env(docs, container(get(docs, "Deployment", service)))
        for var in TOKEN_CONFIG:  # public: configuration, never the Secret
            assert var in env, f"{service}: {var} is not set"
            assert env[var].get("from", "").startswith(f"ConfigMap/{service}-config-"), (
                f"{service}: {var} from {env[var]}"
            )
        TrustedKeys.parse(env["AUTH_JWKS"]["value"])  # a key set of public keys only
        key_sets.add(env["AUTH_JWKS"]["value"])
        if "AUTH_SIGNING_KEY" in env:
            assert "secret" in env["AUTH_SIGNING_KEY"], f"{service}: a private key in a ConfigMap"
            secret_name, key, optional = env["AUTH_SIGNING_KEY"]["secret"]
            assert secret_name.startswith(SECRET_NAME), secret_name
            assert not optional, f"{service} cannot call without its key"
            held[service] = key
    # notify, routing and the console each hold their own key; intake, sla-watch and feedback,
    # which call nobody, hold none.
    assert held == SIGNING_KEYS
    assert len(set(held.values())) == len(held), "a private key shared by two services"
    assert len(key_sets) == 1, "every service trusts the same public keys"
    for where, template in pod_specs(docs):  # migration Jobs: no key at all
        if where.startswith("Job/"):
            for spec in template["spec"]["containers"]:
                assert "AUTH_SIGNING_KEY" not in wired_env(docs, spec), where


def signing_keys_cli(*args: str, stdin: str = "") -> str:
    """README's ``python -m complaint_runtime.signing_keys ...``."""
    return subprocess.run(
        [sys.executable, "-m", "complaint_runtime.signing_keys", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


@pytest.fixture(scope="session")
def keyed_dev(kustomize: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Doc], str]:
    """The dev overlay with keys made as README ("Secrets") says: each caller's private key in
    secrets.env, their public keys and the development issuer's in jwks.json. Returns the
    rendered documents and the development issuer's private key."""
    dev = copy_without_local_files(tmp_path_factory.mktemp("keyed") / "k8s")
    private = {
        key: signing_keys_cli("new", "console" if service == "console" else f"service:{service}")
        for service, key in SIGNING_KEYS.items()
    }
    issuer = signing_keys_cli("new", DEV_ISSUER_KID)
    jwks = signing_keys_cli("public", stdin="".join([*private.values(), issuer]))
    (dev / "jwks.json").write_text(jwks)
    secrets = {key: private.get(key, value).strip() for key, value in example_keys().items()}
    (dev / "secrets.env").write_text("".join(f"{k}={v}\n" for k, v in secrets.items()))
    return build(kustomize, dev), issuer


def verifier(settings: Any) -> TokenVerifier:
    """What a service verifies tokens with, built from its settings as ServiceRuntime does."""
    return TokenVerifier(
        audience=settings.audience,
        trusted=TrustedKeys.parse(settings.auth_jwks),
        issuer=settings.auth_issuer,
        leeway_s=settings.auth_leeway_s,
        provider_jwks_url=settings.auth_jwks_url,
        provider_issuer=settings.auth_provider_issuer,
    )


def refused_by_all_but(token: str, audience: str, settings: dict[str, Any]) -> None:
    for other in set(SERVICES) - {audience}:
        with pytest.raises(Unauthorized):
            verifier(settings[other]).verify(token)


@pytest.mark.parametrize(
    ("caller", "callee"), [(c, callee) for c, calls in CALLS.items() for callee in calls.values()]
)
def test_each_call_is_accepted_by_the_service_it_calls_only(
    keyed_dev: tuple[list[Doc], str], caller: str, callee: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs, _ = keyed_dev
    settings = {service: pod_settings(docs, service, monkeypatch) for service in SERVICES}
    signer = settings[caller]
    key = SigningKey.from_jwk(signer.auth_signing_key)
    if caller == "console":  # a staff issuer: signs the signed-in user's token for the call
        assert service_of_kid(key.kid) is None, key.kid
        token = issue_token(
            key=key,
            subject="lead-billing",
            roles=["lead"],
            team="billing",
            audience=callee,
            ttl_s=signer.console_platform_token_ttl_s,
            issuer=signer.auth_issuer,
        )
    else:  # a service: signs its own identity only
        assert service_of_kid(key.kid) == caller, key.kid
        caller_identity = ServiceCaller(
            key, issuer=signer.auth_issuer, ttl_s=signer.auth_token_ttl_s
        )
        token = caller_identity.token_for(callee)
    principal = verifier(settings[callee]).verify(token)
    assert principal.subject == ("lead-billing" if caller == "console" else caller)
    assert principal.service == (None if caller == "console" else caller)
    refused_by_all_but(token, callee, settings)


def test_dev_sign_in_takes_a_development_issuer_token_for_the_console(
    keyed_dev: tuple[list[Doc], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """README's development token: ``routing-admin issue-token --audience console`` with the
    development issuer's key; the console's sign-in accepts it, no other service does."""
    docs, issuer = keyed_dev
    token = subprocess.run(
        [
            str(Path(sys.executable).parent / "routing-admin"),
            *("issue-token", "--sub", "lead-billing", "--roles", "lead", "--team", "billing"),
            *("--audience", "console"),
        ],
        env={**os.environ, "DEV_ISSUER_SIGNING_KEY": issuer},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    settings = {service: pod_settings(docs, service, monkeypatch) for service in SERVICES}
    assert settings["console"].console_dev_sign_in
    principal = verifier(settings["console"]).verify(token)
    assert (principal.subject, principal.roles, principal.team) == (
        "lead-billing",
        frozenset({"lead"}),
        "billing",
    )
    refused_by_all_but(token, "console", settings)


# ---- secrets ----------------------------------------------------------------------------------


def example_keys() -> dict[str, str]:
    lines = SECRETS_EXAMPLE.read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key.strip(): value for key, value in pairs}


def test_secret_example_lists_every_key_with_no_value(rendered: dict[str, list[Doc]]) -> None:
    example = example_keys()
    assert example, "secrets.env.example is empty"
    assert {k: v for k, v in example.items() if v.strip()} == {}, "example holds values"
    referenced = {
        source["secret"][1]
        for overlay in (*OVERLAYS, MIGRATIONS_VARIANT)
        for _, template in pod_specs(rendered[overlay])
        for spec in template["spec"]["containers"]
        for source in wired_env(rendered[overlay], spec).values()
        if "secret" in source
    }
    assert referenced == set(example), (
        f"not in the example: {referenced - set(example)}; unused: {set(example) - referenced}"
    )


def test_jwks_example_holds_no_key() -> None:
    """The committed jwks.json.example holds no key (empty: the runtime refuses a JWKS with
    an empty key list), so a platform rendered from it trusts none."""
    assert not JWKS_EXAMPLE.read_text().strip()


def test_no_secret_value_comes_from_git(rendered: dict[str, list[Doc]]) -> None:
    """Rendered from the committed example, the dev Secret holds nothing but empty values."""
    secrets = by_kind(rendered["dev"], "Secret")
    assert len(secrets) == 1, sorted(secrets)
    ((name, secret),) = secrets.items()
    assert name.startswith(f"{SECRET_NAME}-")
    assert "stringData" not in secret
    assert set(secret["data"]) == set(example_keys())
    filled = {k for k, v in secret["data"].items() if base64.b64decode(v or "")}
    assert not filled, f"values from git in {filled}"
    # Production renders no Secret at all (the secret manager provides it); no overlay puts a
    # secret into a ConfigMap.
    assert by_kind(rendered["production"], "Secret") == {}
    typed = {
        name.upper()
        for service in SERVICES
        for name, info in settings_class(service).model_fields.items()
        if is_secret(name, info)
    }
    for overlay in (*OVERLAYS, MIGRATIONS_VARIANT):
        for configmap in by_kind(rendered[overlay], "ConfigMap").values():
            data = configmap.get("data", {})
            leaked = [k for k in data if SECRET_FIELD.search(k.lower()) or k in typed]
            assert not leaked, f"{overlay}: {configmap['metadata']['name']} holds {leaked}"


@pytest.mark.integration  # runs git
def test_real_secrets_file_is_ignored_by_git() -> None:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    dev = "deploy/k8s/overlays/dev"
    # The developer's secrets, private keys and key set; production's key set is committed.
    for local, ignore in (
        (f"{dev}/secrets.env", True),
        (f"{dev}/notify.jwk", True),
        (f"{dev}/jwks.json", True),
        ("deploy/k8s/overlays/production/jwks.json", False),
    ):
        ignored = subprocess.run([git, "check-ignore", "-q", local], cwd=ROOT, check=False)
        assert (ignored.returncode == 0) == ignore, f"{local}: git-ignored is not {ignore}"
    tracked = subprocess.run(
        [git, "ls-files", "--", "deploy"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [path for path in tracked if Path(path).name == "secrets.env"]
    assert not [path for path in tracked if path.endswith(".jwk")]


# ---- NetworkPolicies ----------------------------------------------------------------------------


def peer_kind(peer: Doc) -> str:
    """Names a NetworkPolicy peer the way README does."""
    if "ipBlock" in peer:
        return f"ipBlock:{peer['ipBlock']['cidr']}"
    pod = peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
    namespace = peer.get("namespaceSelector")
    if pod is None and namespace is not None:
        labels = namespace.get("matchLabels", {})
        if labels == {INGRESS_LABEL: "true"}:
            return "ingress-controller"
        if labels == {"kubernetes.io/metadata.name": "kube-system"}:
            return "kube-system"
    if pod is not None:
        return pod if namespace is None else f"{pod}@any-namespace"
    raise AssertionError(f"unexpected peer {peer}")


def rule_ports(rule: Doc) -> set[tuple[int, str]]:
    assert rule.get("ports"), f"a rule without ports allows every port: {rule}"
    return {(p["port"], p.get("protocol", "TCP")) for p in rule["ports"]}


def allowed(rules: list[Doc], key: str) -> dict[str, set[tuple[int, str]]]:
    out: dict[str, set[tuple[int, str]]] = {}
    for rule in rules:
        assert rule.get(key), f"a rule without peers allows everyone: {rule}"
        for peer in rule[key]:
            out.setdefault(peer_kind(peer), set()).update(rule_ports(rule))
    return out


@pytest.mark.parametrize("overlay", [*OVERLAYS, MIGRATIONS_VARIANT])
def test_default_deny(rendered: dict[str, list[Doc]], overlay: str) -> None:
    policies = by_kind(rendered[overlay], "NetworkPolicy")
    deny = policies["default-deny-all"]["spec"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny.get("ingress")
    assert not deny.get("egress")
    # No pod is left with nothing but the default deny.
    for where, template in pod_specs(rendered[overlay]):
        labels = template["metadata"]["labels"]
        own = [
            name
            for name, policy in policies.items()
            if name != "default-deny-all" and selects(policy["spec"]["podSelector"], labels)
        ]
        assert own, f"{where} is selected by no allowing NetworkPolicy"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_network_policy_of_each_service(
    rendered: dict[str, list[Doc]], overlay: str, service: str
) -> None:
    docs = rendered[overlay]
    policy = get(docs, "NetworkPolicy", service)["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    pods = {
        n: d["spec"]["template"]["metadata"]["labels"]
        for n, d in by_kind(docs, "Deployment").items()
    }
    assert {n for n, labels in pods.items() if selects(policy["podSelector"], labels)} == {service}

    ingress = allowed(policy.get("ingress", []), "from")
    assert set(ingress) == INGRESS_PEERS[service]
    assert all(ports == {(HTTP_PORT, "TCP")} for ports in ingress.values()), ingress

    expected = {
        "kafka@any-namespace": {(9092, "TCP")},
        "postgresql@any-namespace": {(5432, "TCP")},
        "kube-system": {(53, "UDP"), (53, "TCP")},
    }
    if service == "routing":
        expected["intake"] = {(HTTP_PORT, "TCP")}
    if service == "notify":
        expected["intake"] = expected["feedback"] = {(HTTP_PORT, "TCP")}
        # HTTPS to any public address in both overlays: a webhook receiver can be anywhere.
        https = https_egress(policy)
        assert_public_addresses_only(https)
        expected.update({f"ipBlock:{block['cidr']}": {(HTTPS, "TCP")} for block in https})
        smtp = {
            k: v
            for k, v in allowed(policy["egress"], "to").items()
            if k.startswith("ipBlock") and (HTTPS, "TCP") not in v
        }
        assert len(smtp) == 1
        assert next(iter(smtp.values())) == {(587, "TCP"), (25, "TCP")}
        expected.update(smtp)
    if service == "console":
        expected["routing"] = expected["sla-watch"] = {(HTTP_PORT, "TCP")}
        https = https_egress(policy)
        expected.update({f"ipBlock:{block['cidr']}": {(HTTPS, "TCP")} for block in https})
        if overlay == "production":  # narrowed to the identity provider
            assert all(ipaddress.ip_network(b["cidr"]).prefixlen > 0 for b in https), https
        else:
            assert_public_addresses_only(https)
    assert allowed(policy["egress"], "to") == expected


def assert_public_addresses_only(https: list[Doc]) -> None:
    """Any public address, never the cluster's own or link-local ranges."""
    assert [b["cidr"] for b in https] == ["0.0.0.0/0"], https
    excepted = [ipaddress.IPv4Network(cidr) for cidr in https[0].get("except", [])]
    for private in map(ipaddress.IPv4Network, PRIVATE_RANGES):
        assert any(private.subnet_of(e) for e in excepted), f"{private} not excepted"


def https_egress(policy: Doc) -> list[Doc]:
    """The ipBlocks of the egress rule on port 443 (the console's identity provider;
    notify's SMS provider, robots and webhook receivers)."""
    rules = [rule for rule in policy["egress"] if (HTTPS, "TCP") in rule_ports(rule)]
    assert len(rules) == 1, rules
    assert rule_ports(rules[0]) == {(HTTPS, "TCP")}
    assert all(set(peer) == {"ipBlock"} for peer in rules[0]["to"]), rules[0]
    return [peer["ipBlock"] for peer in rules[0]["to"]]


def test_notify_reaches_intake_and_feedback_at_both_ends(
    rendered: dict[str, list[Doc]],
) -> None:
    """Both ends agree: notify may send to intake/feedback, and they accept it from notify
    (who else may call them: ``INGRESS_PEERS``)."""
    docs = rendered["production"]
    notify_egress = allowed(get(docs, "NetworkPolicy", "notify")["spec"]["egress"], "to")
    for target in ("intake", "feedback"):
        assert notify_egress[target] == {(HTTP_PORT, "TCP")}
        ingress = allowed(get(docs, "NetworkPolicy", target)["spec"]["ingress"], "from")
        assert ingress["notify"] == {(HTTP_PORT, "TCP")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_call_between_services_is_allowed_at_both_ends(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    """Each caller's egress names exactly the services it calls, and each of those accepts the
    caller's server pods (not its migration Job) on the HTTP port; nobody else calls them."""
    docs = rendered[overlay]
    policies = by_kind(docs, "NetworkPolicy")
    servers = {
        name: d["spec"]["template"]["metadata"]["labels"]
        for name, d in by_kind(docs, "Deployment").items()
    }
    for caller, calls in CALLS.items():
        egress = allowed(policies[caller]["spec"]["egress"], "to")
        assert {peer for peer in egress if peer in SERVICES} == set(calls.values()), caller
        for target in calls.values():
            assert egress[target] == {(HTTP_PORT, "TCP")}, (caller, target)
            rules = policies[target]["spec"]["ingress"]
            assert allowed(rules, "from")[caller] == {(HTTP_PORT, "TCP")}, (caller, target)
            peers = [peer for rule in rules for peer in rule["from"] if "podSelector" in peer]
            chosen = [p for p in peers if selects(p["podSelector"], servers[caller])]
            assert chosen, f"{target} does not accept {caller}'s server pods"
            migration = {**servers[caller], "app.kubernetes.io/component": "migration"}
            assert not any(selects(p["podSelector"], migration) for p in chosen), target
    callers = {
        peer
        for service in SERVICES
        for peer in allowed(policies[service]["spec"]["ingress"], "from")
        if peer in SERVICES
    }
    assert callers == set(CALLS)


def test_production_managed_postgres_egress_is_only_postgres(
    rendered: dict[str, list[Doc]],
) -> None:
    extra = {
        name: policy["spec"]
        for name, policy in by_kind(rendered["production"], "NetworkPolicy").items()
        if name not in SERVICES and name != "default-deny-all"
    }
    assert set(extra) == {"egress-managed-postgres"}
    spec = extra["egress-managed-postgres"]
    assert spec["policyTypes"] == ["Egress"]
    # Every service (each has its own database), and nothing else.
    pods = {
        name: d["spec"]["template"]["metadata"]["labels"]
        for name, d in by_kind(rendered["production"], "Deployment").items()
    }
    assert {n for n, labels in pods.items() if selects(spec["podSelector"], labels)} == set(
        SERVICES
    )
    assert {p for ports in allowed(spec["egress"], "to").values() for p in ports} == {(5432, "TCP")}


# ---- overlays ----------------------------------------------------------------------------------


def test_dev_overlay(rendered: dict[str, list[Doc]]) -> None:
    deployments = by_kind(rendered["dev"], "Deployment")
    assert {name: d["spec"]["replicas"] for name, d in deployments.items()} == dict.fromkeys(
        SERVICES, 1
    )
    assert {container(d)["image"].rsplit(":", 1)[1] for d in deployments.values()} == {"dev"}
    assert by_kind(rendered["dev"], "HorizontalPodAutoscaler") == {}


def test_production_overlay(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["production"]
    deployments = by_kind(docs, "Deployment")
    autoscalers = by_kind(docs, "HorizontalPodAutoscaler")
    assert set(autoscalers) == {"intake", "routing", "console"}
    for name, hpa in autoscalers.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert hpa["spec"]["minReplicas"] >= 2
        # The autoscaler owns the count: an applied `replicas` would reset it on every apply.
        assert "replicas" not in deployments[name]["spec"], name
    # Beyond the partition count of what routing consumes, replicas sit idle in the group.
    partitions = min(topics.INTAKE.partitions, topics.FEEDBACK.partitions)
    assert autoscalers["routing"]["spec"]["maxReplicas"] <= partitions
    from console.messaging import CONSUMED

    partitions = min(topic.partitions for topic in CONSUMED)
    assert autoscalers["console"]["spec"]["maxReplicas"] <= partitions
    for name, deployment in deployments.items():
        if name not in autoscalers:
            assert deployment["spec"]["replicas"] >= 2, name
        resources = container(deployment)["resources"]
        assert resources["requests"]["memory"] == resources["limits"]["memory"], name
        assert not container(deployment)["image"].endswith((":dev", ":latest"))


def test_migration_jobs_component(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered[MIGRATIONS_VARIANT]
    jobs = by_kind(docs, "Job")
    assert set(jobs) == {f"{service}-migrate" for service in SERVICES}
    for service, (package, _) in SERVICES.items():
        job = jobs[f"{service}-migrate"]
        spec = job["spec"]["template"]["spec"]["containers"][0]
        assert f"from {package}.main import MIGRATIONS" in spec["command"][-1]
        # The Job migrates the database the service uses (same Secret key).
        deployment = get(docs, "Deployment", service)
        server_env = wired_env(docs, container(deployment))
        assert wired_env(docs, spec)["DATABASE_URL"] == server_env["DATABASE_URL"]
        assert server_env["MIGRATE_ON_START"]["value"] == "false"
        # Its pods fall under the service's NetworkPolicy (PostgreSQL, DNS).
        labels = job["spec"]["template"]["metadata"]["labels"]
        assert selects(get(docs, "NetworkPolicy", service)["spec"]["podSelector"], labels)
        assert labels["app.kubernetes.io/component"] == "migration"
    # README's first step, `kubectl apply -l 'app.kubernetes.io/component!=server'`, brings
    # the Jobs and all they need, and no server.
    first = [
        doc
        for doc in docs
        if doc["metadata"].get("labels", {}).get("app.kubernetes.io/component") != "server"
    ]
    kinds = {doc["kind"] for doc in first}
    assert {"Namespace", "ConfigMap", "Secret", "ServiceAccount", "NetworkPolicy", "Job"} <= kinds
    assert len(by_kind(first, "ServiceAccount")) == len(SERVICES)
    assert not {"Deployment", "Service", "PodDisruptionBudget"} & kinds
    # Without the component, services migrate themselves at start-up.
    for service in SERVICES:
        env = wired_env(rendered["dev"], container(get(rendered["dev"], "Deployment", service)))
        assert env["MIGRATE_ON_START"]["value"] == "true"


# ---- the image ---------------------------------------------------------------------------


def test_dockerfile_copies_every_workspace_member() -> None:
    """The dependency layer needs each member's pyproject.toml; a new member must be added."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    for member in members["members"]:
        assert f"COPY {member}/pyproject.toml {member}/" in dockerfile, member
    # The services only: no development group (devinfra, test tools), no optional model.
    assert "uv sync --frozen --no-default-groups" in dockerfile
    assert "--all-packages" not in dockerfile
    assert re.search(r"^USER 10001", dockerfile, re.MULTILINE)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "**/secrets.env" in ignored


def dockerfile_stages(dockerfile: str) -> dict[str, str]:
    """Each named stage's instructions (continuation lines joined), by stage name."""
    text = re.sub(r"[ \t]*\\\n\s*", " ", dockerfile)
    stages: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        found = re.match(r"FROM\s+\S+\s+AS\s+(\S+)\s*$", line, re.IGNORECASE)
        if found:
            name = found.group(1)
            stages[name] = ""
        if name:
            stages[name] += line + "\n"
    return stages


def test_dockerfile_builds_the_console_assets_from_the_lock_file() -> None:
    """A Node.js stage installs htmx and its SSE extension from the console's package-lock.json
    (npm ci, no install scripts) and the build stage puts the two files where console.assets
    does, before the wheel is built; nothing comes from a CDN."""
    import console as package
    from console import assets
    from console.web.rendering import VENDOR

    dockerfile = (ROOT / "Dockerfile").read_text()
    console = ROOT / "services" / "console"
    assets_dir = "services/console/assets"  # console.assets.ASSETS in a checkout
    assert (ROOT / assets_dir / "package-lock.json").is_file()
    # The official Node.js image, its major version a build argument declared before any FROM.
    major = re.search(r"^ARG NODE_MAJOR=(\d+)$", dockerfile, re.MULTILINE)
    assert major, "no ARG NODE_MAJOR=<major> build argument"
    assert int(major.group(1)) >= 20, "console.assets needs Node.js 20 or later"
    assert dockerfile.index("ARG NODE_MAJOR=") < dockerfile.index("FROM ")
    node = re.search(r"^FROM node:\$\{NODE_MAJOR\}(-[\w.-]+)? AS (\S+)$", dockerfile, re.MULTILINE)
    assert node, "no stage FROM node:${NODE_MAJOR}[-variant] AS <name>"
    stages = dockerfile_stages(dockerfile)
    stage = stages[node.group(2)]
    copied = re.search(r"^COPY (.+) \./$", stage, re.MULTILINE)
    assert copied, "the node stage copies package.json and package-lock.json"
    assert set(copied.group(1).split()) == {
        f"{assets_dir}/package.json",
        f"{assets_dir}/package-lock.json",
    }
    installs = re.findall(r"^RUN (.*)$", stage, re.MULTILINE)
    assert len(installs) == 1, installs
    assert re.match(r"npm ci --ignore-scripts\b", installs[0]), installs[0]
    workdir = re.search(r"^WORKDIR (\S+)$", stage, re.MULTILINE)
    assert workdir, "the node stage has a WORKDIR"
    # The build stage copies exactly console.assets' files, from node_modules to the vendor
    # directory, after the sources and before the `uv sync --no-editable` that builds the wheel.
    build = stages["build"]
    vendor = f"src/console/{VENDOR.relative_to(Path(package.__file__).parent).as_posix()}"
    expected = {
        f"{workdir.group(1)}/node_modules/{source.as_posix()}": f"services/console/{vendor}/{name}"
        for source, name in assets.FILES.items()
    }
    found = dict(re.findall(rf"^COPY --from={node.group(2)} (\S+) (\S+)$", build, re.MULTILINE))
    assert found == expected
    positions = [build.index(f"COPY --from={node.group(2)} {source}") for source in found]
    assert build.index("COPY services/ services/") < min(positions)
    assert max(positions) < build.index("--no-editable")
    # The installed wheel is checked for the files (hatch artifacts of the console).
    for name in assets.FILES.values():
        assert f"site-packages/console/static/vendor/{name}" in build, name
    hatch = tomllib.loads((console / "pyproject.toml").read_text())["tool"]["hatch"]
    artifacts = hatch["build"]["targets"]["wheel"]["artifacts"]
    assert any(
        Path(vendor, name).match(glob) for glob in artifacts for name in assets.FILES.values()
    )
    # Nothing from a CDN or the open web: no downloads, and npm only installs the lock file.
    assert not re.search(r"\b(curl|wget)\b|^ADD\s+https?://|unpkg|jsdelivr|cdnjs", dockerfile, re.M)
    assert not re.search(r"\bnpm (install|i|update)\b", dockerfile)
    # The runtime image has no Node.js: only the build stage feeds it.
    runtime = stages["runtime"]
    assert re.findall(r"--from=(\S+)", runtime) == ["build"]


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether the build context leaves ``path`` out (.dockerignore: ``**``, ``*``, ``?``,
    ``!`` exceptions, the last matching pattern wins, a pattern also matches a directory's
    contents)."""
    parents = path.split("/")
    candidates = ["/".join(parents[:n]) for n in range(1, len(parents) + 1)]
    ignored = False
    for raw in patterns:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.removeprefix("!").lstrip("/")
        regex = ""
        for token in re.findall(r"\*\*/|\*\*|\*|\?|[^*?]", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                token, re.escape(token)
            )
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            ignored = not negate
    return ignored


def test_dockerignore_sends_the_lock_file_but_no_node_modules_or_vendor_files() -> None:
    patterns = (ROOT / ".dockerignore").read_text().splitlines()
    assert "**/node_modules" in patterns
    for needed in (
        "services/console/assets/package.json",
        "services/console/assets/package-lock.json",
        "services/console/pyproject.toml",
        "services/console/src/console/main.py",
        "services/console/src/console/static/console.css",
    ):
        assert not dockerignored(needed, patterns), needed
    for left_out in (
        "services/console/assets/node_modules/htmx.org/dist/htmx.min.js",
        # From the npm stage only, never a laptop's copy.
        "services/console/src/console/static/vendor/htmx.min.js",
        "services/console/src/console/static/vendor/sse.min.js",
        "deploy/k8s/overlays/dev/secrets.env",
        "services/console/tests/test_console.py",
    ):
        assert dockerignored(left_out, patterns), left_out
