"""Replication that can lag, as AWS's does: a test holds a secret's replica in a region, and the
replica keeps serving what it had until the test releases it.

moto 5.2.5 replicates at once: a ReplicaSecret reads its primary's versions, so every
PutSecretValue and UpdateSecretVersionStage shows in the replica region the moment it happens, and
ReplicationStatus always says InSync. AWS replicates asynchronously (usually within seconds, at
times minutes), so a store reading a replica can see the old AWSCURRENT for a while. Patched here,
for held replicas only (every other replica keeps moto's behaviour):

    POST /moto-api/config
    {"rotator_replication": {"hold": [{"secret": "<name>", "region": "eu-west-1"}]}}
    {"rotator_replication": {"release": [{"secret": "<name>", "region": "eu-west-1"}]}}

Holding snapshots the replica's versions and stages as they are; until released, the replica's
GetSecretValue, DescribeSecret (VersionIdsToStages) and ListSecretVersionIds answer from that
snapshot, and the primary's ReplicationStatus reports that region as InProgress. Releasing lets the
replica follow its primary again (InSync). Holds are cleared by POST /moto-api/reset.
GET /moto-api/config shows {"rotator_replication": {"held": ["<name>@<region>", ...]}}.
Local emulator only: AWS has no such switch.
"""

import copy
import threading
from typing import Any

from moto.moto_api._internal.models import MotoAPIBackend
from moto.secretsmanager.models import ReplicaSecret, secretsmanager_backends

CONFIG_KEY = "rotator_replication"
IN_PROGRESS = "Replication of the latest version is in progress (held by a local test)"

_lock = threading.Lock()
# (secret name, region) -> {"versions": snapshot of the replica's versions, "default": version id}
_held: dict[tuple[str, str], dict[str, Any]] = {}


def _pairs(items: Any) -> list[tuple[str, str]]:
    if not isinstance(items, list):
        raise ValueError(f'{CONFIG_KEY}: hold and release take [{{"secret": name, "region": region}}]')
    pairs = []
    for item in items:
        if not (isinstance(item, dict) and item.get("secret") and item.get("region")):
            raise ValueError(f"{CONFIG_KEY}: each entry needs secret and region")
        pairs.append((str(item["secret"]), str(item["region"])))
    return pairs


def _replica(name: str, region: str) -> ReplicaSecret | None:
    for account in list(secretsmanager_backends.keys()):
        backend = secretsmanager_backends[account].get(region)
        if backend is None:
            continue
        for secret in dict.values(backend.secrets):
            if isinstance(secret, ReplicaSecret) and secret.name == name:
                return secret
    return None


def _configure(config: Any) -> None:
    if not isinstance(config, dict):
        raise ValueError(f"{CONFIG_KEY} must be an object with hold and/or release")
    holds = _pairs(config.get("hold", []))
    releases = _pairs(config.get("release", []))
    with _lock:
        for key in releases:
            _held.pop(key, None)
        for name, region in holds:
            replica = _replica(name, region)
            if replica is None:
                raise ValueError(f"{CONFIG_KEY}: no replica of {name} in {region}")
            source = replica.source
            _held[(name, region)] = {
                "versions": copy.deepcopy(source.versions),
                "default": source.default_version_id,
            }


def _snapshot(replica: ReplicaSecret) -> dict[str, Any] | None:
    with _lock:
        return _held.get((replica.source.name, replica.region))


def _versions(self: ReplicaSecret) -> dict[str, dict[str, Any]]:
    held = _snapshot(self)
    return held["versions"] if held else self.source.versions


def _default_version_id(self: ReplicaSecret) -> str | None:
    held = _snapshot(self)
    return held["default"] if held else self.source.default_version_id


def _get_config(self: ReplicaSecret) -> dict[str, Any]:
    config = dict(self._rotator_config)
    if _snapshot(self) is not None:
        config.update({"Status": "InProgress", "StatusMessage": IN_PROGRESS})
    return config


def _set_config(self: ReplicaSecret, value: dict[str, Any]) -> None:
    self._rotator_config = value


_original_to_dict = ReplicaSecret.to_dict


def _to_dict(self: ReplicaSecret) -> dict[str, Any]:
    dct = _original_to_dict(self)
    held = _snapshot(self)
    if held:
        stages = {vid: v["version_stages"] for vid, v in held["versions"].items() if v["version_stages"]}
        dct["VersionIdsToStages"] = stages
        dct["SecretVersionsToStages"] = stages
    return dct


_original_set_config = MotoAPIBackend.set_config
_original_get_config = MotoAPIBackend.get_config
_original_reset = MotoAPIBackend.reset


def _api_set_config(self: MotoAPIBackend, config: dict[str, Any]) -> None:
    if CONFIG_KEY in config:
        _configure(config[CONFIG_KEY])
    _original_set_config(self, config)


def _api_get_config(self: MotoAPIBackend) -> dict[str, Any]:
    with _lock:
        held = sorted(f"{name}@{region}" for name, region in _held)
    return {**_original_get_config(self), CONFIG_KEY: {"held": held}}


def _api_reset(self: MotoAPIBackend) -> None:
    with _lock:
        _held.clear()
    _original_reset(self)


ReplicaSecret.versions = property(_versions)  # type: ignore[assignment,method-assign]
ReplicaSecret.default_version_id = property(_default_version_id)  # type: ignore[assignment,method-assign]
ReplicaSecret.config = property(_get_config, _set_config)  # type: ignore[attr-defined]
ReplicaSecret.to_dict = _to_dict  # type: ignore[method-assign]
MotoAPIBackend.set_config = _api_set_config  # type: ignore[method-assign]
MotoAPIBackend.get_config = _api_get_config  # type: ignore[method-assign]
MotoAPIBackend.reset = _api_reset  # type: ignore[method-assign]
