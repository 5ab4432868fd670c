"""What `make run` gives a person: the demo seller and buyer it prints, and the demo catalog behind them."""

from __future__ import annotations

import json
import re
import time

import boto3
import httpx

from infra.launcher import launch
from infra.seed import CATALOG_FILE


def test_make_run_serves_the_demo_catalog_and_prints_working_credentials(tmp_path):
    cloud = launch(tmp_path, seed=True)
    try:
        # `ready:` comes as soon as the API serves; the demo data follows through the API and says so.
        deadline = time.monotonic() + 60
        while "demo catalog:" not in (output := (tmp_path / "cloud.out").read_text()):
            assert time.monotonic() < deadline, output[-3000:]
            time.sleep(0.1)
        assert re.search(r"demo catalog: 40 items loaded", output)
        credentials = {
            role: (email, password) for role, email, password in re.findall(r"demo (\w+): (\S+) / (\S+)", output)
        }
        assert set(credentials) == {"seller", "buyer"}
        api = cloud.state["endpoints"]["api"]
        with httpx.Client(base_url=api, timeout=30) as client:
            assert client.get("/health").json()["status"] == "ok"
            email, password = credentials["seller"]
            login = client.post("/auth/login", json={"email": email, "password": password})
            assert login.status_code == 200
            seller_id = _sub(login.json()["accessToken"])
            env = cloud.state["environment"]
            dynamodb = boto3.client(
                "dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"], region_name=env["AWS_REGION"],
                aws_access_key_id="local", aws_secret_access_key="local",
            )
            items = dynamodb.query(
                TableName=cloud.state["outputs"]["ItemsTableName"], IndexName="bySeller",
                KeyConditionExpression="sellerId = :s", ExpressionAttributeValues={":s": {"S": seller_id}},
            )["Items"]
            expected = json.loads(CATALOG_FILE.read_text())
            assert len(items) == len(expected)
            tv = next(item for item in items if item.get("sku", {}).get("S") == "TV-4K-001")
            shown = client.get(f"/items/{tv['itemId']['S']}").json()
            assert shown["name"] == "42-inch 4K Smart TV"
            assert shown["available"] == 8
            assert shown["specifications"]["resolution"] == "3840 x 2160"
            email, password = credentials["buyer"]
            assert client.post("/auth/login", json={"email": email, "password": password}).status_code == 200
    finally:
        cloud.stop()


def _sub(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["sub"])
