"""Runs moto's server (same arguments as `python -m moto.server`) with one addition: EKS clusters
can be registered as local, so DescribeCluster returns a real API server's endpoint and CA instead
of moto's random ones. That lets the bundled Lambdas reach the local cluster through their
production path (eks:DescribeCluster, then an EKS bearer token).

Registration goes through moto's own config API, because moto starts before the cluster does (ESO
needs moto's endpoint first):

    POST /moto-api/config
    {"rotator_local_eks": {"clusters": {"local": {"endpoint": "https://127.0.0.1:6443",
                                                  "certificateAuthorityData": "<base64 PEM>"}}}}

A cluster created afterwards under a registered name reports that endpoint and CA; every other
cluster keeps moto's behaviour. Registrations survive POST /moto-api/reset, as moto's own config does.

It also routes presigned STS requests (query-string signatures) to STS, so a local EKS token
authenticator can send a token's GetCallerIdentity URL to moto as it would to STS.
Patched at import time: EKSBackend.create_cluster, MotoAPIBackend.set_config/get_config and
DomainDispatcherApplication.infer_service_region_host.
"""

import sys
import threading
from typing import Any
from urllib.parse import parse_qs

import moto.server
from moto.eks.models import Cluster, EKSBackend
from moto.moto_api._internal.models import MotoAPIBackend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

CONFIG_KEY = "rotator_local_eks"
_lock = threading.Lock()
_local_clusters: dict[str, dict[str, str]] = {}


def _register(config: Any) -> None:
    clusters = config.get("clusters") if isinstance(config, dict) else None
    if not isinstance(clusters, dict):
        raise ValueError(f'{CONFIG_KEY} must be {{"clusters": {{name: {{endpoint, certificateAuthorityData}}}}}}')
    for name, cluster in clusters.items():
        if not (isinstance(cluster, dict) and cluster.get("endpoint") and cluster.get("certificateAuthorityData")):
            raise ValueError(f"{CONFIG_KEY}: cluster {name} needs endpoint and certificateAuthorityData")
    with _lock:
        for name, cluster in clusters.items():
            _local_clusters[name] = {
                "endpoint": str(cluster["endpoint"]),
                "certificateAuthorityData": str(cluster["certificateAuthorityData"]),
            }


_original_create_cluster = EKSBackend.create_cluster
_original_infer_service = DomainDispatcherApplication.infer_service_region_host
_original_set_config = MotoAPIBackend.set_config
_original_get_config = MotoAPIBackend.get_config


def _create_cluster(self: EKSBackend, name: str, *args: Any, **kwargs: Any) -> Cluster:
    cluster = _original_create_cluster(self, name, *args, **kwargs)
    with _lock:
        local = _local_clusters.get(name)
    if local:
        cluster.endpoint = local["endpoint"]
        cluster.certificate_authority = {"data": local["certificateAuthorityData"]}
    return cluster


def _set_config(self: MotoAPIBackend, config: dict[str, Any]) -> None:
    if CONFIG_KEY in config:
        _register(config[CONFIG_KEY])
    _original_set_config(self, config)


def _get_config(self: MotoAPIBackend) -> dict[str, Any]:
    with _lock:
        local = {"clusters": {name: dict(cluster) for name, cluster in _local_clusters.items()}}
    return {**_original_get_config(self), CONFIG_KEY: local}


def _infer_service_region_host(self: DomainDispatcherApplication, environ: dict[str, Any], path: str) -> str | None:
    # moto's server routes a signed request by the credential scope of its Authorization header only;
    # a presigned STS URL (query-string signature, as in an EKS token) would land on S3. Route it by
    # the scope in X-Amz-Credential instead. Only STS, so S3's presigned URLs keep moto's handling.
    # Set on the request itself, not a copy: moto also reads the caller's access key (and from it the
    # account and identity: an assumed role's session in its own account) from that header only.
    if not environ.get("HTTP_AUTHORIZATION"):
        credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential", [""])[0]
        if credential.split("/")[3:4] == ["sts"]:
            environ["HTTP_AUTHORIZATION"] = f"AWS4-HMAC-SHA256 Credential={credential}"
    return _original_infer_service(self, environ, path)


EKSBackend.create_cluster = _create_cluster  # type: ignore[method-assign]
MotoAPIBackend.set_config = _set_config  # type: ignore[method-assign]
MotoAPIBackend.get_config = _get_config  # type: ignore[method-assign]
DomainDispatcherApplication.infer_service_region_host = _infer_service_region_host  # type: ignore[method-assign]

# RotateSecret with AWS's semantics, switched on by local runs of the whole story (see the module).
import moto_rotation_semantics  # noqa: E402,F401  (patches on import)

# AssumeRole that honours trust policies (principal, sts:ExternalId), and the sessions' secret keys
# for the local EKS token authenticator (see the module).
import moto_sts_trust  # noqa: E402,F401  (patches on import)

# Replication that a test can hold, so a replica lags its primary as AWS's may (see the module).
import moto_replication_lag  # noqa: E402,F401  (patches on import)

if __name__ == "__main__":
    moto.server.main(sys.argv[1:])
