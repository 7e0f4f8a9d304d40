"""AssumeRole that honours the role's trust policy, and the secret keys of the sessions it issued.

moto 5.2.5 lets any caller assume any role ("the ARN can point to another account", which is how a
local run reaches a second account): it never reads the trust policy, so an external id is never
checked. Patched here, for roles that exist in the target account's IAM (a role that does not exist
keeps moto's behaviour, so switching accounts by assuming a made-up role still works):
  - the caller must match a statement's Principal.AWS: "*", its account id or account root, or its
    ARN (an assumed-role session as its role, as IAM compares them);
  - every sts:ExternalId condition of that statement (StringEquals, or StringLike with * and ?) must
    match the request's ExternalId; a missing ExternalId matches none.
Otherwise AssumeRole fails with AccessDenied, as STS answers (moto sends it with HTTP 400, AWS with 403).

A local EKS token authenticator must check a token's signature, which needs the signer's secret key;
for session credentials only moto knows it. GET /moto-api/config includes
{"rotator_sts_sessions": {"<access key id>": "<secret access key>"}} for every session AssumeRole
issued. Local emulator only: AWS has no such thing.
"""

import fnmatch
import json
from typing import Any

from moto.iam.models import iam_backends
from moto.moto_api._internal.models import MotoAPIBackend
from moto.sts.exceptions import STSClientError
from moto.sts.models import sts_backends
from moto.sts.responses import TokenResponse

CONFIG_KEY = "rotator_sts_sessions"


def _role_in_iam(role_arn: str) -> Any:
    parts = role_arn.split(":")
    if len(parts) < 6:
        return None
    account, partition = parts[4], parts[1]
    if account not in iam_backends:
        return None
    backend = iam_backends[account][partition]
    return next((role for role in backend.get_roles() if role.arn == role_arn), None)


def _canonical(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) >= 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{parts[5].split('/')[1]}"
    return arn


def _principal_matches(principal: Any, caller_arn: str, caller_account: str) -> bool:
    if principal == "*":
        return True
    aws = principal.get("AWS") if isinstance(principal, dict) else None
    names = aws if isinstance(aws, list) else [aws]
    canonical = _canonical(caller_arn)
    for name in names:
        if not isinstance(name, str):
            continue
        if name in ("*", caller_account, f"arn:aws:iam::{caller_account}:root") or _canonical(name) == canonical:
            return True
    return False


def _external_id_matches(condition: Any, external_id: str | None) -> bool:
    for operator, tests in (condition or {}).items():
        for key, expected in tests.items():
            if key.lower() != "sts:externalid":
                continue
            if external_id is None:
                return False
            values = expected if isinstance(expected, list) else [expected]
            if operator == "StringEquals" and external_id not in values:
                return False
            if operator == "StringLike" and not any(fnmatch.fnmatchcase(external_id, v) for v in values):
                return False
    return True


def _trusted(role: Any, caller_arn: str, caller_account: str, external_id: str | None) -> bool:
    document = role.assume_role_policy_document
    policy = json.loads(document) if isinstance(document, str) else document
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if statement.get("Effect") != "Allow" or not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        if _principal_matches(statement.get("Principal"), caller_arn, caller_account) and _external_id_matches(
            statement.get("Condition"), external_id
        ):
            return True
    return False


_original_assume_role = TokenResponse.assume_role
_original_get_config = MotoAPIBackend.get_config


def _assume_role(self: TokenResponse) -> Any:
    role_arn = self._get_param("RoleArn") or ""
    role = _role_in_iam(role_arn)
    if role is not None:
        _, caller_arn, caller_account = self.backend.get_caller_identity(self.get_access_key(), self.region)
        if not _trusted(role, caller_arn, caller_account, self._get_param("ExternalId")):
            # moto serializes an error by its module's service (moto.sts), so STS's own class, with the code.
            raise STSClientError(
                "AccessDenied",
                f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
            )
    return _original_assume_role(self)


def _get_config(self: MotoAPIBackend) -> dict[str, Any]:
    sessions = {
        role.access_key_id: role.secret_access_key
        for account in list(sts_backends.keys())
        for backend in sts_backends[account].values()
        for role in backend.assumed_roles
    }
    return {**_original_get_config(self), CONFIG_KEY: sessions}


TokenResponse.assume_role = _assume_role  # type: ignore[method-assign]
MotoAPIBackend.get_config = _get_config  # type: ignore[method-assign]
