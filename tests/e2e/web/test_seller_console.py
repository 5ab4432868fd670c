"""The seller console (/seller) in a real browser against the storefront's own local cloud: sign-up, a listing
with a variant and attributes (field errors next to the fields first), an image uploaded straight to S3 that
becomes READY with renditions, a version conflict shown, restock, deactivation, and a CSV import with its
per-row report; each view screenshotted and scanned with axe-core."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from playwright.sync_api import expect

from tests.support.browser import checked
from tests.support.users import PASSWORD, unique_email


def _png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (900, 600), "teal").save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_seller_lists_edits_pictures_restocks_and_imports(page: Any, web_api: httpx.Client, tmp_path: Path) -> None:
    page.goto("/seller")
    checked(page, "seller-sign-in")
    signup = page.locator("form", has=page.get_by_role("heading", name="Open a seller account"))
    signup.get_by_label("Name").fill("Ada Seller")
    signup.get_by_label("Email").fill(unique_email("seller"))
    signup.get_by_label("Password").fill(PASSWORD)
    signup.get_by_role("button", name="Create account").click()

    listing = page.locator("form", has=page.get_by_role("heading", name="List an item"))
    expect(listing).to_be_visible()
    # The API's field errors land next to their fields: a price of 0 is refused (VALIDATION_FAILED, price).
    name = f"Harbour jacket {uuid.uuid4().hex[:6]}"
    listing.get_by_label("Name").fill(name)
    listing.get_by_label("Description").fill("A waxed cotton jacket")
    listing.get_by_label("Price (USD)").fill("0")
    listing.get_by_role("button", name="List item").click()
    price_error = listing.locator("[data-error-for=price]")
    expect(price_error).to_be_visible()
    expect(listing.get_by_label("Price (USD)")).to_have_attribute("aria-invalid", "true")
    checked(page, "seller-field-errors")

    listing.get_by_label("Price (USD)").fill("89.00")
    listing.get_by_label("Category").fill("apparel")
    listing.get_by_label("Attributes (one key: value a line)").fill("material: waxed cotton")
    listing.get_by_role("button", name="Add a variant").click()
    listing.get_by_label("Attributes (e.g. color=red, size=M)").fill("size=M")
    listing.get_by_label("Stock").fill("4")
    listing.get_by_role("button", name="List item").click()
    editor = page.locator("section.editor")
    expect(editor.get_by_role("heading", name=name)).to_be_visible()
    item_id = editor.locator("p.meta").inner_text().split(" · ")[0]
    item = web_api.get(f"/items/{item_id}").json()
    assert (item["price"], item["attributes"], [v["attributes"] for v in item["variants"]], item["available"]) == (
        8900, {"material": "waxed cotton"}, [{"size": "M"}], 4)

    # A picture, posted to S3 with the presigned form, checked by the image processor: READY, renditions shown.
    editor.get_by_label("Picture (JPEG, PNG or WebP)").set_input_files(str(_png(tmp_path / "jacket.png")))
    editor.get_by_role("button", name="Upload").click()
    expect(editor.locator("[data-image-status=READY] img")).to_be_visible(timeout=30_000)
    assert editor.locator("[data-image-status=READY] img").get_attribute("srcset")
    expect(editor.get_by_label("Upload progress")).to_have_js_property("value", 100)
    expect(editor.get_by_role("status")).to_have_text("jacket.png: READY")
    checked(page, "seller-item")

    # Someone else (another tab) saves first: this form's save is refused and says so.
    current = web_api.get(f"/items/{item['itemId']}").json()
    seller_token = page.evaluate("() => JSON.parse(localStorage.getItem('shop.tokens')).accessToken")
    changed = web_api.patch(f"/items/{item['itemId']}", headers={"Authorization": f"Bearer {seller_token}"},
                            json={"version": current["version"], "description": "Changed elsewhere"})  # fmt: skip
    assert changed.status_code == 200, changed.text
    edit = editor.locator("form", has=page.get_by_role("heading", name="Edit"))
    edit.get_by_label("Price (USD)").fill("79.00")
    edit.get_by_role("button", name="Save changes").click()
    expect(edit.get_by_role("alert")).to_contain_text("Someone changed this item meanwhile")
    checked(page, "seller-version-conflict")
    edit.get_by_role("button", name="Load the current version").click()
    edit = editor.locator("form", has=page.get_by_role("heading", name="Edit"))
    expect(edit.get_by_label("Description")).to_have_value("Changed elsewhere")
    edit.get_by_label("Price (USD)").fill("79.00")
    edit.get_by_role("button", name="Save changes").click()
    expect(editor.locator("p.meta")).to_contain_text("$79.00")

    restock = editor.locator("form", has=page.get_by_role("heading", name="Restock"))
    restock.get_by_label("Units to add").fill("6")
    restock.get_by_role("button", name="Add stock").click()
    expect(editor.locator("p.meta")).to_contain_text("10 available")
    editor.get_by_role("button", name="Deactivate", exact=True).click()
    expect(editor.get_by_role("button", name="Activate", exact=True)).to_be_visible()
    assert web_api.get(f"/items/{item['itemId']}").json()["status"] == "INACTIVE"

    # A CSV import: two good rows and one refused, reported by row.
    csv = tmp_path / "items.csv"
    word = uuid.uuid4().hex[:6]
    csv.write_text("name,description,price,quantity\n"
                   f"Import mug {word},Stoneware,1200,5\n"
                   f"Import bowl {word},Stoneware,-3,5\n"
                   f"Import plate {word},Stoneware,1500,2\n")  # fmt: skip
    imports = page.locator("form", has=page.get_by_role("heading", name="Bulk import"))
    imports.get_by_label("File").set_input_files(str(csv))
    imports.get_by_role("button", name="Import").click()
    expect(imports.get_by_role("alert")).to_contain_text("Import completed: 2 created, 1 failed of 3", timeout=30_000)
    report = imports.get_by_role("table", name="Rows not imported")
    expect(report.get_by_role("row", name=re.compile(r"^2 price VALIDATION_FAILED"))).to_be_visible()
    checked(page, "seller-import")
