#!/usr/bin/env python3
"""A new user's check of the example service (SPEC R-SRV-5): boto3 talks to it, PyJWT verifies its tokens.

Starts `cognito_server` (already built) on a free loopback port, creates a pool, an app client with
rotation and a user through boto3, signs in, refreshes, and verifies the ID and access tokens of both the
sign-in and the refresh with `jwt.decode(..., algorithms=["RS256"])` against the JWKS the service serves,
as a resource server that pins RS256 (most do) would. Exits non-zero on any failure.

    pip install boto3 pyjwt cryptography
    cargo build --example cognito_server
    python3 e2e/python/rs256_check.py [path/to/cognito_server]

The binary defaults to target/debug/examples/cognito_server under the repository.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

import boto3
import jwt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REGION = "us-east-1"
PASSWORD = "Correct-Horse-42"


def start(binary):
    proc = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    marker = "listening on "
    if marker not in line:
        proc.kill()
        raise SystemExit(f"no readiness line from {binary}: {line!r} {proc.stderr.read()!r}")
    url = line.split(marker, 1)[1].split()[0]
    return proc, url


def verify(token, jwks, pool_id, token_use, client_id):
    kid = jwt.get_unverified_header(token)["kid"]
    key = next((k for k in jwks["keys"] if k["kid"] == kid), None)
    assert key is not None, f"kid {kid} is not in the served JWKS"
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    claims = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],  # pinned, never taken from the token
        issuer=issuer,
        audience=client_id if token_use == "id" else None,
        options={"verify_aud": token_use == "id", "require": ["exp", "iat", "iss", "sub"]},
    )
    assert claims["token_use"] == token_use, claims
    if token_use == "access":
        assert claims["client_id"] == client_id, claims
    return claims


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        ROOT, "target", "debug", "examples", "cognito_server"
    )
    started = time.monotonic()
    proc, url = start(binary)
    try:
        idp = boto3.client(
            "cognito-idp",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        pool = idp.create_user_pool(PoolName="rs256-check")["UserPool"]["Id"]
        client = idp.create_user_pool_client(
            UserPoolId=pool,
            ClientName="app",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH"],
            RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 10},
        )["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
        idp.admin_set_user_password(
            UserPoolId=pool, Username="alice", Password=PASSWORD, Permanent=True
        )
        signed_in = idp.admin_initiate_auth(
            UserPoolId=pool,
            ClientId=client,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        refreshed = idp.get_tokens_from_refresh_token(
            ClientId=client, RefreshToken=signed_in["RefreshToken"]
        )["AuthenticationResult"]
        assert refreshed["RefreshToken"] != signed_in["RefreshToken"], "rotation is on"

        with urllib.request.urlopen(f"{url}/{pool}/.well-known/jwks.json") as r:
            jwks = json.load(r)
        for k in jwks["keys"]:
            assert k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig", k

        for step, result in (("sign-in", signed_in), ("refresh", refreshed)):
            id_claims = verify(result["IdToken"], jwks, pool, "id", client)
            access_claims = verify(result["AccessToken"], jwks, pool, "access", client)
            assert id_claims["cognito:username"] == "alice", id_claims
            assert access_claims["username"] == "alice", access_claims
            print(
                f"{step}: ID and access tokens verified with PyJWT {jwt.__version__}, "
                f"algorithms=['RS256'] (kids {jwt.get_unverified_header(result['IdToken'])['kid']}, "
                f"{jwt.get_unverified_header(result['AccessToken'])['kid']})"
            )
        print(f"rs256_check: ok in {time.monotonic() - started:.2f} s")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
