"""Parsing import files: CSV columns and JSONL lines become the same item bodies as POST /items, row by row."""

from __future__ import annotations

import json

import pytest

from shop.catalog.imports import MAX_ROWS, ImportFileError, csv_item, parse_file

HEADER = "name,description,price,quantity,sku,brand,category,tags\n"


def errors_of(rows):
    return {row.row: [(e.code, e.field) for e in row.errors] for row in rows if row.errors}


def test_csv_rows_become_item_bodies():
    body = HEADER + 'Mug,"Big, blue",1299,5,MUG-1,Acme,Kitchen,"Blue; mug;;MUG"\nCup,,99,0,,,,\n'
    rows = parse_file("csv", body.encode())
    assert [row.row for row in rows] == [1, 2] and errors_of(rows) == {}
    mug, cup = rows[0].item, rows[1].item
    assert (mug.name, mug.description, mug.price, mug.quantity, mug.sku) == ("Mug", "Big, blue", 1299, 5, "MUG-1")
    assert (mug.brand, mug.category, mug.tags) == ("Acme", "kitchen", ["blue", "mug"])
    assert (cup.sku, cup.brand, cup.category, cup.tags, cup.description) == (None, None, None, [], "")


def test_csv_cells_parse_only_plain_integers():
    assert csv_item({"price": " 42 ", "quantity": "3"}) == {"price": 42, "quantity": 3}
    assert csv_item({"price": "9.99"}) == {"price": "9.99"}  # the schema then refuses it, as for JSON
    assert csv_item({"price": "", "sku": " "}) == {}


def test_csv_row_errors_name_row_and_field():
    body = HEADER + "Mug,,9.99,5,,,,\n,,100,-1,,,,\nOnly,two\nGood,,100,1,,,,\n"
    rows = parse_file("csv", body.encode())
    assert errors_of(rows) == {
        1: [("VALIDATION_FAILED", "price")],
        2: [("VALIDATION_FAILED", "name"), ("VALIDATION_FAILED", "quantity")],
        3: [("MALFORMED_CSV", None)],
    }
    assert rows[3].item is not None


def test_csv_header_may_reorder_and_omit_optional_columns_but_not_invent_them():
    rows = parse_file("csv", b"\xef\xbb\xbfQuantity,Price,Name,Description\n1,100,Mug,\n")  # BOM from a spreadsheet
    assert rows[0].item is not None and rows[0].item.price == 100
    for header in ("name,price,quantity\n", "name,description,price,quantity,colour\n", "name,name,price,quantity\n"):
        with pytest.raises(ImportFileError) as refused:
            parse_file("csv", (header + "x\n").encode())
        assert refused.value.code == "BAD_CSV_HEADER"


def test_jsonl_lines_are_validated_like_post_items():
    lines = [
        json.dumps({"name": "Mug", "description": "", "price": 100, "quantity": 1, "tags": ["A", "a"]}),
        "",
        '{"name": "Mug", "price": 100',
        "[1, 2]",
        json.dumps({"name": "Mug", "description": "", "price": "100", "quantity": 1, "colour": "red"}),
        '{"name": "x", "description": "", "price": NaN, "quantity": 1}',
    ]
    rows = parse_file("jsonl", "\n".join(lines).encode())
    assert [row.row for row in rows] == [1, 3, 4, 5, 6]  # blank lines are not rows; rows are line numbers
    assert rows[0].item is not None and rows[0].item.tags == ["a"]
    assert errors_of(rows) == {
        3: [("MALFORMED_JSON", None)],
        4: [("MALFORMED_JSON", None)],
        5: [("VALIDATION_FAILED", "price"), ("VALIDATION_FAILED", "colour")],
        6: [("MALFORMED_JSON", None)],
    }


def test_a_sku_repeated_in_the_file_fails_the_later_row():
    lines = [
        json.dumps({"name": "A", "description": "", "price": 100, "quantity": 1, "sku": "ab-1"}),
        json.dumps({"name": "B", "description": "", "price": 100, "quantity": 1, "sku": "AB-1"}),
    ]
    rows = parse_file("jsonl", "\n".join(lines).encode())
    assert rows[0].item is not None and rows[1].item is None
    assert errors_of(rows) == {2: [("DUPLICATE_SKU", "sku")]}


@pytest.mark.parametrize(
    ("file_format", "body", "code"),
    [
        ("csv", b"", "EMPTY_FILE"),
        ("jsonl", b"\n\n", "EMPTY_FILE"),
        ("jsonl", b"\xff\xfe{}", "NOT_UTF8"),
        ("jsonl", b'{"name": "x"}\n' * (MAX_ROWS + 1), "TOO_MANY_ROWS"),
    ],
)
def test_unusable_files_fail_as_a_whole(file_format, body, code):
    with pytest.raises(ImportFileError) as refused:
        parse_file(file_format, body)
    assert refused.value.code == code
