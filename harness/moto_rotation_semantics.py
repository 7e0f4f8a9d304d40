"""RotateSecret as AWS does it, for local runs that play Secrets Manager's part themselves.

moto 5.2.5 differs from AWS in three ways that matter to a local run of the whole story:
  - it refuses RotateSecret when AWSPENDING sits on the *current* version (a finished rotation) and
    accepts it when AWSPENDING sits on another version (one still in progress): AWS does the opposite;
  - without RotationLambdaARN in the request it forgets the configured function and moves
    AWSCURRENT to the new, empty version;
  - with a function it moves AWSCURRENT to the new version at once, before any step has run.
A local run may also age a secret, as if it had been created and scheduled `days` ago:
{"rotator_aws_rotation": {"enabled": true, "ageDays": {"<secret name>": 33}}}.
When enabled (POST /moto-api/config {"rotator_aws_rotation": {"enabled": true}}), RotateSecret on a
secret with a rotation function (configured or given) follows AWS: a rotation in progress is
refused, a finished one's AWSPENDING label is cleared, the new version gets only AWSPENDING and no
value, AWSCURRENT stays where it is, and the request's ClientRequestToken is the version id (a
repeat of the same token is accepted and changes nothing). Running the four steps is left to the
caller, as the Lambda invocation would be. Off by default, so tests keep moto's own behaviour.
"""

import time
import uuid
from typing import Any

from moto.moto_api._internal.models import MotoAPIBackend
from moto.secretsmanager.exceptions import InvalidRequestException, SecretNotFoundException
from moto.secretsmanager.models import SecretsManagerBackend

CONFIG_KEY = "rotator_aws_rotation"
_state = {"enabled": False}
_original_rotate = SecretsManagerBackend.rotate_secret
_original_set_config = MotoAPIBackend.set_config


def _rotate_secret(
    self: SecretsManagerBackend,
    secret_id: str,
    client_request_token: str | None = None,
    rotation_lambda_arn: str | None = None,
    rotation_rules: dict[str, Any] | None = None,
    rotate_immediately: bool = True,
) -> str:
    if not _state["enabled"]:
        return _original_rotate(self, secret_id, client_request_token, rotation_lambda_arn, rotation_rules, rotate_immediately)
    if not self._is_valid_identifier(secret_id):
        raise SecretNotFoundException()
    secret = self.secrets[secret_id]
    function = rotation_lambda_arn or getattr(secret, "rotation_lambda_arn", "")
    if not function:
        raise InvalidRequestException("No Lambda rotation function ARN is associated with this secret.")
    secret.rotation_lambda_arn = function
    if rotation_rules and "AutomaticallyAfterDays" in rotation_rules:
        secret.auto_rotate_after_days = int(rotation_rules["AutomaticallyAfterDays"])
        secret.next_rotation_date = int(time.time()) + secret.auto_rotate_after_days * 86400
    secret.rotation_enabled = True
    secret.rotation_requested = True  # moto reports the rotation fields only once this is set
    if not rotate_immediately:
        return secret.to_short_dict(include_version_id=False)
    if client_request_token and client_request_token in secret.versions:
        return secret.to_short_dict(version_id=client_request_token)
    for version in secret.versions.values():
        stages = version["version_stages"]
        if "AWSPENDING" in stages:
            if "AWSCURRENT" not in stages:
                raise InvalidRequestException("A previous rotation isn't complete. That rotation will be reattempted.")
            stages.remove("AWSPENDING")
    new_id = client_request_token or str(uuid.uuid4())
    secret.versions[new_id] = {"createdate": int(time.time()), "version_id": new_id, "version_stages": ["AWSPENDING"]}
    secret.last_rotation_date = int(time.time())
    if getattr(secret, "auto_rotate_after_days", 0):
        secret.next_rotation_date = secret.last_rotation_date + secret.auto_rotate_after_days * 86400
    return secret.to_short_dict(version_id=new_id)


def _set_config(self: MotoAPIBackend, config: dict[str, Any]) -> None:
    if CONFIG_KEY in config:
        settings = config[CONFIG_KEY] or {}
        _state["enabled"] = bool(settings.get("enabled"))
        for name, days in (settings.get("ageDays") or {}).items():
            _age(name, int(days))
    _original_set_config(self, config)


def _age(name: str, days: int) -> None:
    """Moves a secret's creation and rotation dates `days` into the past (moto cannot backdate)."""
    from moto.secretsmanager.models import secretsmanager_backends

    for account in secretsmanager_backends.values():
        for backend in account.values():
            secret = backend.secrets.get(name) if backend._is_valid_identifier(name) else None
            if secret is None:
                continue
            shift = days * 86400
            secret.created_date -= shift
            for stamp in ("last_rotation_date", "next_rotation_date", "last_changed_date"):
                if getattr(secret, stamp, None):
                    setattr(secret, stamp, getattr(secret, stamp) - shift)


SecretsManagerBackend.rotate_secret = _rotate_secret  # type: ignore[method-assign]
MotoAPIBackend.set_config = _set_config  # type: ignore[method-assign]
