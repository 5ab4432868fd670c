"""The image pipeline over HTTP against the session cloud: presigned upload form, S3 notification,
ImageProcessorFunction's checks and renditions, the item's image entries, ItemImageReady, redelivery."""

from __future__ import annotations

import io
import json
import time
import uuid
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import Stack
from tests.support.events import wait_for_event
from tests.support.users import User, error_code, new_item, register

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def png(width: int, height: int, *, mode: str = "RGB", color: Any = "orange", exif: bool = False) -> bytes:
    image = Image.new(mode, (width, height), color)
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SecretCam"  # Make
        options["exif"] = tags.tobytes()
    image.save(out, "PNG", **options)
    return out.getvalue()


@pytest.fixture
def item(api: httpx.Client, seller: User) -> str:
    created = api.post("/items", json=new_item(name="Camera bag"), headers=seller.auth)
    assert created.status_code == 201, created.text
    return str(created.json()["itemId"])


@pytest.fixture(scope="module")
def bucket(stack: Stack) -> str:
    return str(stack.outputs["MediaBucketName"])


def start_upload(api: httpx.Client, user: User, item_id: str) -> dict[str, Any]:
    answer = api.post(f"/items/{item_id}/images", headers=user.auth)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    assert body["status"] == "PENDING" and body["upload"]["method"] == "POST"
    return body


def send(form: dict[str, Any], data: bytes, content_type: str, filename: str = "photo.png") -> httpx.Response:
    fields = {**form["fields"], "Content-Type": content_type}
    return httpx.post(form["url"], data=fields, files={"file": (filename, data, content_type)}, timeout=60)


def image_entry(api: httpx.Client, item_id: str, image_id: str) -> dict[str, Any]:
    got = api.get(f"/items/{item_id}")
    assert got.status_code == 200, got.text
    entry = next(entry for entry in got.json()["images"] if entry["imageId"] == image_id)
    return {name: value for name, value in entry.items() if value is not None}  # optional fields may be null


def wait_until_processed(api: httpx.Client, item_id: str, image_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (entry := image_entry(api, item_id, image_id))["status"] == "PENDING":
        assert time.monotonic() < deadline, f"image {image_id} still PENDING after {timeout} s"
        time.sleep(0.1)
    return entry


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    return int(s3.list_objects_v2(Bucket=bucket, Prefix=key)["KeyCount"]) > 0


def test_png_upload_becomes_ready_with_clean_renditions(
    api: httpx.Client, stack: Stack, seller: User, item: str, bucket: str
) -> None:
    upload = start_upload(api, seller, item)
    image_id = upload["imageId"]
    assert image_entry(api, item, image_id) == {"imageId": image_id, "status": "PENDING"}
    assert send(upload["upload"], png(1600, 1000, exif=True), "image/png").status_code in (200, 201, 204)

    entry = wait_until_processed(api, item, image_id)
    assert entry["status"] == "READY", entry
    assert set(entry["renditions"]) == {"200", "800"}
    assert entry["url"] == entry["renditions"]["800"]
    for size, expected in (("200", (200, 125)), ("800", (800, 500))):
        fetched = httpx.get(entry["renditions"][size])
        assert fetched.status_code == 200
        rendition = Image.open(io.BytesIO(fetched.content))
        assert rendition.format == "WEBP" and rendition.size == expected
        assert not rendition.getexif() and "exif" not in rendition.info

    event = wait_for_event(
        stack,
        lambda e: e.get("detail-type") == "ItemImageReady" and e["detail"]["data"]["imageId"] == image_id,
        type="ItemImageReady",
    )  # fmt: skip
    envelope = event["detail"]
    assert envelope["type"] == "ItemImageReady" and envelope["version"] == 1 and envelope["source"] == "shop.media"
    expected = {"itemId": item, "imageId": image_id, "url": entry["url"], "renditions": entry["renditions"]}
    assert envelope["data"] == expected
    assert not object_exists(stack.client("s3"), bucket, f"uploads/{item}/{image_id}"), "the original is deleted"


def test_a_ready_image_is_the_items_picture_in_search(api: httpx.Client, seller: User) -> None:
    word = f"zq{uuid.uuid4().hex[:10]}"  # a word only this item has
    created = api.post("/items", json=new_item(name=f"Tote bag {word}"), headers=seller.auth)
    assert created.status_code == 201, created.text
    item = str(created.json()["itemId"])
    upload = start_upload(api, seller, item)
    assert send(upload["upload"], png(400, 300), "image/png").status_code in (200, 201, 204)
    entry = wait_until_processed(api, item, upload["imageId"])
    assert entry["status"] == "READY", entry

    deadline = time.monotonic() + 30
    while True:
        hits = api.get("/items", params={"term": word}).json()["items"]
        if hits and hits[0]["image"] == entry["url"]:
            break
        assert time.monotonic() < deadline, f"the search hit never showed the image: {hits}"
        time.sleep(0.2)


def test_text_renamed_jpg_is_rejected_and_removed(
    api: httpx.Client, stack: Stack, seller: User, item: str, bucket: str
) -> None:
    upload = start_upload(api, seller, item)
    image_id = upload["imageId"]
    sent = send(upload["upload"], b"just some text, not a photo\n" * 20, "image/jpeg", "holiday.jpg")
    assert sent.status_code in (200, 201, 204)
    entry = wait_until_processed(api, item, image_id)
    assert entry == {"imageId": image_id, "status": "REJECTED", "reason": "NOT_AN_IMAGE"}
    s3 = stack.client("s3")
    assert not object_exists(s3, bucket, f"uploads/{item}/{image_id}")
    assert not object_exists(s3, bucket, f"renditions/{item}/{image_id}/")


def test_pixel_bomb_is_rejected(api: httpx.Client, seller: User, item: str) -> None:
    bomb = png(20_000, 20_000, mode="1", color=1)  # 400 Mpx that compress to a few tens of KB
    assert len(bomb) < 200_000
    upload = start_upload(api, seller, item)
    assert send(upload["upload"], bomb, "image/png").status_code in (200, 201, 204)
    entry = wait_until_processed(api, item, upload["imageId"])
    assert entry["status"] == "REJECTED" and entry["reason"] == "TOO_MANY_PIXELS"


def test_upload_over_the_size_limit_never_becomes_an_image(api: httpx.Client, seller: User, item: str) -> None:
    upload = start_upload(api, seller, item)
    assert upload["upload"]["maxBytes"] == MAX_UPLOAD_BYTES
    sent = send(upload["upload"], b"\0" * (MAX_UPLOAD_BYTES + 1), "image/png")
    if sent.status_code == 400:  # AWS S3 enforces the form's content-length-range (EntityTooLarge)
        assert "EntityTooLarge" in sent.text
        return
    # moto 5.2.5 accepts any size (it does not check POST policies): the pipeline refuses it instead.
    entry = wait_until_processed(api, item, upload["imageId"])
    assert entry["status"] == "REJECTED" and entry["reason"] == "TOO_LARGE"


def test_only_the_owning_seller_adds_images(api: httpx.Client, buyer: User, item: str) -> None:
    other = register(api, "seller")
    refused = api.post(f"/items/{item}/images", headers=other.auth)
    assert refused.status_code == 403 and error_code(refused) == "FORBIDDEN"
    refused = api.post(f"/items/{item}/images", headers=buyer.auth)
    assert refused.status_code == 403 and error_code(refused) == "FORBIDDEN"
    assert api.post(f"/items/{item}/images").status_code == 401
    missing = api.post("/items/itm_01ARZ3NDEKTSV4RRFFQ69G5FAV/images", headers=other.auth)
    assert missing.status_code == 404 and error_code(missing) == "ITEM_NOT_FOUND"
    assert api.get(f"/items/{item}").json()["images"] == []


def test_an_item_holds_at_most_ten_images(api: httpx.Client, seller: User, item: str) -> None:
    for _ in range(10):
        start_upload(api, seller, item)
    refused = api.post(f"/items/{item}/images", headers=seller.auth)
    assert refused.status_code == 409 and error_code(refused) == "TOO_MANY_IMAGES"
    assert refused.json()["error"]["details"] == {"itemId": item, "maxImages": 10}


def test_the_same_s3_event_twice_changes_nothing(
    api: httpx.Client, stack: Stack, local_only: Stack, seller: User, item: str, bucket: str
) -> None:
    upload = start_upload(api, seller, item)
    image_id = upload["imageId"]
    body = png(300, 200)
    assert send(upload["upload"], body, "image/png").status_code in (200, 201, 204)
    assert wait_until_processed(api, item, image_id)["status"] == "READY"
    before = api.get(f"/items/{item}").json()

    key = f"uploads/{item}/{image_id}"
    record = {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-01-01T00:00:00.000Z",
        "eventName": "ObjectCreated:Post", "userIdentity": {"principalId": "local"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"}, "responseElements": {"x-amz-request-id": "r"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "Upload",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "local"}, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": key, "size": len(body), "eTag": "x", "sequencer": "0"}},
    }  # fmt: skip
    lam = stack.client("lambda")
    for _ in range(2):
        answer = lam.invoke(FunctionName="ImageProcessorFunction", Payload=json.dumps({"Records": [record]}).encode())
        assert "FunctionError" not in answer, answer["Payload"].read()
        assert json.loads(answer["Payload"].read()) == {"processed": {key: "IGNORED"}}
    after = api.get(f"/items/{item}").json()
    assert after["version"] == before["version"] and after["images"] == before["images"]
