"""Offline checks of the Kubernetes manifests in deploy/k8s (run by deploy/lint.sh).

No kustomize binary is installable from PyPI, so this renders each overlay with a small,
strict subset of kustomize (resources, namespace, images, strategic-merge patches by file;
any other kustomization field is an error rather than silently ignored), then:

1. validates every rendered object against the Kubernetes OpenAPI schemas bundled in the
   kubernetes-validate package (strict: unknown fields are errors), for the oldest and the
   newest Kubernetes version checked;
2. checks the project's own rules: probes on /readyz and /livez, resources, non-root and
   read-only root filesystems, no committed Secret, selectors that match, only the gateway
   reachable from outside (the API under /v1 and the pages, never /metrics), one HPA and one
   PDB where expected, the notification worker running its module;
3. replicas: at least two gateway and matcher pods (HPA minReplicas), the gateway reaching
   the matcher through its Service (which routes to ready pods only; a matcher catching up on
   the change feed is not ready: CONVENE_MATCHER_READY_MAX_FEED_LAG is set), and the worker's
   SMTP settings, and the links in its and the gateway's emails pointing at the pages'
   Ingress host.

Usage: python deploy/check_k8s.py [deploy/k8s]
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
SUPPORTED_KUSTOMIZATION_FIELDS = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "images",
    "patches",
}
CLUSTER_SCOPED_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "IngressClass"}
SERVICES = {"gateway": 8000, "profiles": 8001, "matcher": 8002, "web": 8080}
# Processes without a port: name -> the module its command runs.
WORKERS = {"notification-worker": "convene_matcher.notifications.worker"}
# What the Ingress may route to, and the paths the gateway gets (never "/": its /metrics,
# /livez and /readyz stay inside the cluster).
INGRESS_BACKENDS = {"gateway", "web"}
GATEWAY_PATHS = {"/v1", "/openapi.json", "/docs"}
MATCHER_MEMORY_LIMIT_MIB = 2560
# Replicated services and the least number of pods each runs.
MIN_REPLICAS = {"gateway": 2, "matcher": 2}
WORKER_SMTP_ENV = ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "SMTP_START_TLS", "PUBLIC_URL")

Doc = dict[str, Any]


class CheckError(Exception):
    pass


def load_documents(path: Path) -> list[Doc]:
    with path.open() as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def key(doc: Doc) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


# -- a strict subset of kustomize ---------------------------------------------------------
def strategic_merge(base: Any, patch: Any) -> Any:
    """Maps merge recursively, lists of named maps merge by name, null deletes a key,
    any other list replaces the base list (as kustomize does for lists without a merge key)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for name, value in patch.items():
            if value is None:
                merged.pop(name, None)
            elif name in merged:
                merged[name] = strategic_merge(merged[name], value)
            else:
                merged[name] = copy.deepcopy(value)
        return merged
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(item, dict) and "name" in item for item in base + patch)
    ):
        merged_list = [copy.deepcopy(item) for item in base]
        for item in patch:
            for index, existing in enumerate(merged_list):
                if existing["name"] == item["name"]:
                    merged_list[index] = strategic_merge(existing, item)
                    break
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def pod_spec(doc: Doc) -> Doc | None:
    if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        spec: Doc = doc["spec"]["template"]["spec"]
        return spec
    return None


def all_containers(spec: Doc) -> list[Doc]:
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def set_images(docs: list[Doc], images: list[Doc]) -> None:
    for doc in docs:
        spec = pod_spec(doc)
        if spec is None:
            continue
        for container in all_containers(spec):
            name = container["image"].split("@")[0].rsplit(":", 1)[0]
            for image in images:
                if image["name"] == name:
                    new_name = image.get("newName", name)
                    tag = image.get("newTag")
                    container["image"] = f"{new_name}:{tag}" if tag else new_name


def render(directory: Path) -> list[Doc]:
    kustomization_file = directory / "kustomization.yaml"
    if not kustomization_file.is_file():
        raise CheckError(f"{directory}: no kustomization.yaml")
    kustomization = yaml.safe_load(kustomization_file.read_text())
    unsupported = set(kustomization) - SUPPORTED_KUSTOMIZATION_FIELDS
    if unsupported:
        raise CheckError(
            f"{kustomization_file}: fields {sorted(unsupported)} are not rendered by "
            "deploy/check_k8s.py; extend it before using them"
        )
    docs: list[Doc] = []
    for entry in kustomization.get("resources", []):
        target = (directory / entry).resolve()
        docs.extend(render(target) if target.is_dir() else load_documents(target))
    seen: set[tuple[str, str]] = set()
    for doc in docs:
        if key(doc) in seen:
            raise CheckError(f"{directory}: {key(doc)} defined twice")
        seen.add(key(doc))
    for entry in kustomization.get("patches", []):
        if set(entry) != {"path"}:
            raise CheckError(f"{kustomization_file}: only `patches: - path: FILE` is supported")
        for patch in load_documents(directory / entry["path"]):
            matches = [i for i, doc in enumerate(docs) if key(doc) == key(patch)]
            if len(matches) != 1:
                raise CheckError(f"{entry['path']}: patch target {key(patch)} not found")
            docs[matches[0]] = strategic_merge(docs[matches[0]], patch)
    set_images(docs, kustomization.get("images", []))
    namespace = kustomization.get("namespace")
    if namespace:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED_KINDS:
                doc["metadata"]["namespace"] = namespace
    return docs


def unlisted_files(directory: Path) -> list[Path]:
    """YAML files beside a kustomization.yaml that it neither lists nor patches with."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    used = set(kustomization.get("resources", []))
    used |= {entry["path"] for entry in kustomization.get("patches", [])}
    return [
        path
        for path in sorted(directory.glob("*.yaml"))
        if path.name != "kustomization.yaml" and path.name not in used
    ]


# -- the project's own rules --------------------------------------------------------------
def memory_mib(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    return float(quantity) / (1024 * 1024)


def labels_match(selector: Doc, labels: Doc) -> bool:
    return all(labels.get(name) == value for name, value in selector.items())


def policy_targets(selector: Doc) -> list[str]:
    """The app names a NetworkPolicy's podSelector picks (matchLabels or an In expression)."""
    name = selector.get("matchLabels", {}).get("app.kubernetes.io/name")
    names = [name] if name else []
    for expression in selector.get("matchExpressions", []):
        if expression["key"] == "app.kubernetes.io/name" and expression["operator"] == "In":
            names += expression["values"]
    return names


def peer_name(peer: Doc) -> str:
    if "namespaceSelector" in peer:
        labels = peer["namespaceSelector"].get("matchLabels", {})
        return f"namespace:{labels.get('kubernetes.io/metadata.name', 'any')}"
    labels = peer.get("podSelector", {}).get("matchLabels", {})
    return str(labels.get("app.kubernetes.io/name", "any"))


def check_rules(docs: list[Doc], *, overlay: bool) -> list[str]:
    problems: list[str] = []
    by_kind: dict[str, list[Doc]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}

    if by_kind.get("Secret"):
        problems.append("a Secret is committed: secrets are created outside git")
    if set(deployments) != set(SERVICES) | set(WORKERS):
        expected_names = sorted(set(SERVICES) | set(WORKERS))
        problems.append(f"expected Deployments {expected_names}, found {sorted(deployments)}")
    for name, module in WORKERS.items():
        worker = deployments.get(name)
        if worker is None:
            continue
        container = worker["spec"]["template"]["spec"]["containers"][0]
        if container.get("command") != ["python", "-m", module]:
            problems.append(f"Deployment/{name}: command is not python -m {module}")
        if container.get("ports"):
            problems.append(f"Deployment/{name}: a worker exposes no port")

    for doc in docs:
        spec = pod_spec(doc)
        if spec is None:
            continue
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        if spec.get("securityContext", {}).get("runAsNonRoot") is not True:
            problems.append(f"{where}: pod securityContext.runAsNonRoot is not true")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: automountServiceAccountToken is not false")
        for container in all_containers(spec):
            name = f"{where}/{container['name']}"
            security = container.get("securityContext", {})
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{name}: allowPrivilegeEscalation is not false")
            if security.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{name}: readOnlyRootFilesystem is not true")
            if security.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{name}: capabilities are not all dropped")
            resources = container.get("resources", {})
            if "memory" not in resources.get("limits", {}) or not resources.get("requests"):
                problems.append(f"{name}: resources need requests and a memory limit")
            if overlay and ":" not in container["image"].rsplit("/", 1)[-1]:
                problems.append(f"{name}: image {container['image']} has no tag in an overlay")
            for env in container.get("env", []):
                if "value" in env and any(
                    word in env["name"].upper() for word in ("PASSWORD", "SECRET", "TOKEN", "SALT")
                ):
                    problems.append(f"{name}: {env['name']} has a literal value; use a Secret")
                if "DATABASE_URL" in env["name"] and "value" in env:
                    problems.append(f"{name}: {env['name']} has a literal value; use a Secret")

    for name, port in SERVICES.items():
        deployment = deployments.get(name)
        if deployment is None:
            continue
        spec = deployment["spec"]["template"]["spec"]
        container = spec["containers"][0]
        if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
            problems.append(f"Deployment/{name}: readinessProbe is not GET /readyz")
        if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/livez":
            problems.append(f"Deployment/{name}: livenessProbe is not GET /livez")
        if [p["containerPort"] for p in container.get("ports", [])] != [port]:
            problems.append(f"Deployment/{name}: container port is not {port}")
        args = " ".join(container.get("args", []) + container.get("command", []))
        if "--workers" in args and "--workers 1" not in args:
            problems.append(f"Deployment/{name}: more than one uvicorn worker per pod")
        if name == "matcher":
            limit = memory_mib(container["resources"]["limits"]["memory"])
            if limit > MATCHER_MEMORY_LIMIT_MIB:
                problems.append(f"Deployment/matcher: memory limit {limit} MiB is over 2.5 GiB")
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            if "/var/lib/convene/matcher-index" not in mounts:
                problems.append("Deployment/matcher: no volume for the index directory")
        if "replicas" in deployment["spec"] and any(
            hpa["spec"]["scaleTargetRef"]["name"] == name
            for hpa in by_kind.get("HorizontalPodAutoscaler", [])
        ):
            problems.append(f"Deployment/{name}: sets replicas although an HPA owns them")

    for service in by_kind.get("Service", []):
        name = service["metadata"]["name"]
        if service["spec"].get("type", "ClusterIP") != "ClusterIP":
            problems.append(f"Service/{name}: only ClusterIP; the Ingress is the way in")
        selected = [
            d
            for d in deployments.values()
            if labels_match(
                service["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"]
            )
        ]
        if len(selected) != 1:
            problems.append(f"Service/{name}: selector matches {len(selected)} Deployments")
    for kind in ("PodDisruptionBudget",):
        for doc in by_kind.get(kind, []):
            selector = doc["spec"]["selector"]["matchLabels"]
            if not any(
                labels_match(selector, d["spec"]["template"]["metadata"]["labels"])
                for d in deployments.values()
            ):
                problems.append(f"{kind}/{doc['metadata']['name']}: selects no Deployment")
    pdbs = {d["metadata"]["name"] for d in by_kind.get("PodDisruptionBudget", [])}
    if pdbs != set(SERVICES):
        problems.append(f"expected a PodDisruptionBudget per service, found {sorted(pdbs)}")
    hpas = {d["spec"]["scaleTargetRef"]["name"] for d in by_kind.get("HorizontalPodAutoscaler", [])}
    if hpas != {"gateway", "matcher"}:
        problems.append(f"expected HPAs for gateway and matcher, found {sorted(hpas)}")

    for ingress in by_kind.get("Ingress", []):
        where = f"Ingress/{ingress['metadata']['name']}"
        for rule in ingress["spec"]["rules"]:
            gateway_paths = set()
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]["name"]
                if backend not in INGRESS_BACKENDS:
                    problems.append(f"{where}: routes to {backend}, past the gateway and pages")
                if backend == "gateway":
                    gateway_paths.add(path["path"])
            if gateway_paths != GATEWAY_PATHS:
                problems.append(f"{where}: gateway paths {sorted(gateway_paths)}")
    if not by_kind.get("Ingress"):
        problems.append("no Ingress for the gateway")

    policies = by_kind.get("NetworkPolicy", [])
    if not any(p["spec"]["podSelector"] == {} and not p["spec"].get("ingress") for p in policies):
        problems.append("no default-deny ingress NetworkPolicy")
    allowed_from: dict[str, set[str]] = {}
    for policy in policies:
        for target in policy_targets(policy["spec"]["podSelector"]):
            for rule in policy["spec"].get("ingress", []):
                for peer in rule.get("from", []):
                    allowed_from.setdefault(target, set()).add(peer_name(peer))
    expected = {
        "gateway": {"namespace:ingress-nginx", "web", "namespace:monitoring"},
        "web": {"namespace:ingress-nginx", "namespace:monitoring"},
        "profiles": {"gateway", "matcher", "notification-worker", "namespace:monitoring"},
        "matcher": {"gateway", "namespace:monitoring"},
    }
    if allowed_from != expected:
        problems.append(f"NetworkPolicy ingress is {allowed_from}, expected {expected}")

    if not by_kind.get("Job"):
        problems.append("no migration Job")
    return problems + check_replicas(by_kind, deployments)


def env_values(container: Doc, config: Doc) -> dict[str, str]:
    """A container's environment with ConfigMap references resolved (Secrets left out)."""
    values = {}
    for env in container.get("env", []):
        if "value" in env:
            values[env["name"]] = str(env["value"])
        elif ref := env.get("valueFrom", {}).get("configMapKeyRef"):
            values[env["name"]] = str(config.get(ref["name"], {}).get(ref["key"], ""))
    return values


def check_replicas(by_kind: dict[str, list[Doc]], deployments: dict[str, Doc]) -> list[str]:
    problems: list[str] = []
    config = {c["metadata"]["name"]: c.get("data", {}) for c in by_kind.get("ConfigMap", [])}
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind.get("HorizontalPodAutoscaler", [])
    }
    for name, least in MIN_REPLICAS.items():
        hpa = hpas.get(name)
        if hpa is not None and hpa["spec"].get("minReplicas", 1) < least:
            problems.append(f"HorizontalPodAutoscaler/{name}: minReplicas under {least}")
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}

    def container_env(name: str) -> dict[str, str]:
        deployment = deployments.get(name)
        if deployment is None:
            return {}
        return env_values(deployment["spec"]["template"]["spec"]["containers"][0], config)

    matcher_url = container_env("gateway").get("CONVENE_GATEWAY_MATCHER_URL", "")
    matcher_service = services.get("matcher")
    ports = [p["port"] for p in matcher_service["spec"]["ports"]] if matcher_service else []
    if not any(matcher_url.rstrip("/") == f"http://matcher:{port}" for port in ports):
        problems.append(
            f"Deployment/gateway: CONVENE_GATEWAY_MATCHER_URL {matcher_url!r} is not the "
            "matcher Service (which spreads over ready pods)"
        )
    lag = container_env("matcher").get("CONVENE_MATCHER_READY_MAX_FEED_LAG", "")
    if not lag.isdigit():
        problems.append("Deployment/matcher: CONVENE_MATCHER_READY_MAX_FEED_LAG is not set")

    worker = container_env("notification-worker")
    for key in WORKER_SMTP_ENV:
        if not worker.get(f"CONVENE_MATCHER_{key}"):
            problems.append(f"Deployment/notification-worker: CONVENE_MATCHER_{key} is empty")
    links = {
        "Deployment/notification-worker": worker.get("CONVENE_MATCHER_PUBLIC_URL", ""),
        "Deployment/gateway": container_env("gateway").get("CONVENE_GATEWAY_WEB_BASE_URL", ""),
    }
    page_hosts = {
        f"https://{rule['host']}"
        for ingress in by_kind.get("Ingress", [])
        for rule in ingress["spec"]["rules"]
        if "host" in rule
        and any(
            p["path"] == "/" and p["backend"]["service"]["name"] == "web"
            for p in rule["http"]["paths"]
        )
    }
    for where, url in links.items():
        if page_hosts and url.rstrip("/") not in page_hosts:
            problems.append(
                f"{where}: email links go to {url!r}, not the pages' Ingress host "
                f"{sorted(page_hosts)}"
            )
    return problems


def validate_schemas(docs: list[Doc], source: str) -> list[str]:
    problems = []
    for doc in docs:
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                path = "/".join(str(part) for part in exc.path)
                problems.append(f"{source} {key(doc)} k8s {version}: {path}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError as exc:
                problems.append(f"{source} {key(doc)} k8s {version}: {exc}")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).parent / "k8s")
    targets = [root / "base", *sorted(p for p in (root / "overlays").iterdir() if p.is_dir())]
    problems: list[str] = []
    for target in targets:
        name = str(target.relative_to(root))
        try:
            docs = render(target)
        except (CheckError, OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            problems.append(f"{name}: cannot render: {exc!r}")
            continue
        problems += [f"{name}: {path} is not listed" for path in unlisted_files(target)]
        problems += validate_schemas(docs, name)
        problems += [f"{name}: {p}" for p in check_rules(docs, overlay=target != root / "base")]
        kinds = sorted({doc["kind"] for doc in docs})
        print(f"k8s {name}: {len(docs)} objects ({', '.join(kinds)})")  # noqa: T201
    for problem in problems:
        print(f"  FAIL {problem}", file=sys.stderr)  # noqa: T201
    print(  # noqa: T201
        f"k8s: {len(targets)} kustomizations, schemas for Kubernetes "
        f"{' and '.join(KUBERNETES_VERSIONS)}: {'FAILED' if problems else 'ok'}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
