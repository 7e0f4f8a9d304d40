"""Prints the EKS bearer token that `aws eks get-token` would build, using botocore's presigner.

Mirrors awscli/customizations/eks/get_token.py: a presigned STS GetCallerIdentity URL whose signed
headers include x-k8s-aws-id, X-Amz-Expires=60, then 'k8s-aws-v1.' + base64url without padding.
Usage: python botocore_eks_token.py ACCESS_KEY SECRET_KEY SESSION_TOKEN|- REGION CLUSTER YYYYMMDDTHHMMSSZ
"""

import base64
import datetime
import sys
from unittest import mock

import botocore.auth
import botocore.session

access_key, secret_key, session_token, region, cluster, stamp = sys.argv[1:7]
session = botocore.session.get_session()
session.set_credentials(access_key, secret_key, None if session_token == "-" else session_token)
client = session.create_client(
    "sts", region_name=region, endpoint_url=f"https://sts.{region}.amazonaws.com"
)


def retrieve_k8s_aws_id(params, context, **kwargs):
    if "x-k8s-aws-id" in params:
        context["x-k8s-aws-id"] = params.pop("x-k8s-aws-id")


def inject_k8s_aws_id_header(request, **kwargs):
    if "x-k8s-aws-id" in request.context:
        request.headers["x-k8s-aws-id"] = request.context["x-k8s-aws-id"]


client.meta.events.register("provide-client-params.sts.GetCallerIdentity", retrieve_k8s_aws_id)
client.meta.events.register("before-sign.sts.GetCallerIdentity", inject_k8s_aws_id_header)

fixed = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
with mock.patch.object(botocore.auth, "get_current_datetime", return_value=fixed):
    url = client.generate_presigned_url(
        "get_caller_identity", Params={"x-k8s-aws-id": cluster}, ExpiresIn=60, HttpMethod="GET"
    )
print("k8s-aws-v1." + base64.urlsafe_b64encode(url.encode("utf-8")).decode("utf-8").rstrip("="))
