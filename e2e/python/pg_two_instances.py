#!/usr/bin/env python3
"""A new user's check of `cognito_server --database-url` (SPEC R-SRV-6, R-PER-4) with boto3.

Starts two processes of the (already built) example on one PostgreSQL database, creates a pool, a user
and an app client with rotation through process 1, signs in on 1, refreshes on 2, restarts 1, and
refreshes again on the restarted 1. Exits non-zero on any failure.

    pip install boto3
    cargo build --example cognito_server
    bash stores/postgres/ci.sh python3 e2e/python/pg_two_instances.py [path/to/cognito_server]

The database URL is REFRESH_ROTATION_PG_URL (ci.sh sets it) or the first of DATABASE_URL.
"""

import os
import subprocess
import sys

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORD = "Correct-Horse-42"


def start(binary, url):
    proc = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", "--database-url", url],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    marker = "listening on "
    if marker not in line:
        proc.kill()
        raise SystemExit(f"no readiness line from {binary}: {line!r}")
    print(line.strip())
    return proc, line.split(marker, 1)[1].split()[0]


def idp(endpoint):
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        ROOT, "target", "debug", "examples", "cognito_server"
    )
    url = os.environ.get("REFRESH_ROTATION_PG_URL") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set REFRESH_ROTATION_PG_URL or DATABASE_URL")
    p1, e1 = start(binary, url)
    p2, e2 = start(binary, url)
    try:
        one, two = idp(e1), idp(e2)
        pool = one.create_user_pool(PoolName="demo")["UserPool"]["Id"]
        one.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
        one.admin_set_user_password(
            UserPoolId=pool, Username="alice", Password=PASSWORD, Permanent=True
        )
        client = one.create_user_pool_client(
            UserPoolId=pool,
            ClientName="app",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
            RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
        )["UserPoolClient"]["ClientId"]
        print(f"process 1: created pool {pool} and client {client}")
        signed_in = one.initiate_auth(
            ClientId=client,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        t0 = signed_in["RefreshToken"]
        print(f"process 1: signed in, refresh token ...{t0[-12:]}")
        t1 = two.get_tokens_from_refresh_token(ClientId=client, RefreshToken=t0)[
            "AuthenticationResult"
        ]["RefreshToken"]
        print(f"process 2: refreshed it, new refresh token ...{t1[-12:]}")
        p1.terminate()
        p1.wait()
        print("process 1: stopped")
        p1, e1 = start(binary, url)
        one = idp(e1)
        t2 = one.get_tokens_from_refresh_token(ClientId=client, RefreshToken=t1)[
            "AuthenticationResult"
        ]["RefreshToken"]
        print(f"process 1 (restarted): refreshed the token from process 2: ...{t2[-12:]}")
        try:
            two.get_tokens_from_refresh_token(ClientId=client, RefreshToken=t0)
            raise SystemExit("the rotated-out token was accepted")
        except two.exceptions.RefreshTokenReuseException as e:
            print(f"process 2: the first token is refused: {e.response['Error']['Code']}")
        print("OK")
    finally:
        for p in (p1, p2):
            p.terminate()
            p.wait()


if __name__ == "__main__":
    main()
