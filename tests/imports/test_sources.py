"""What an import fetches: files read in each format, field paths, plans and their storage keys."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.imports.sources import (
    CsvRow,
    ImportPlan,
    PlannedDocument,
    PlannedImage,
    document_folder,
    field_values,
    key_segment,
    parse_collection,
    plan_documents,
    plan_urls,
    validate_collection_name,
)


def _plan(documents: list[dict[str, Any]], **options: Any) -> ImportPlan:
    arguments: dict[str, Any] = {"id_field": "id", "url_field": "photo", "max_images": 100}
    return plan_documents("hotels", documents, **(arguments | options))


def _urls(plan: ImportPlan) -> dict[str, list[tuple[int, str]]]:
    return {
        document.id: [(image.number, image.url) for image in document.images]
        for document in plan.documents
    }


# --- parse_collection -----------------------------------------------------------------------


def test_a_json_array_gives_its_objects_in_order() -> None:
    data = b'[{"id": 1, "photo": "https://a/1.jpg"}, {"id": 2}]'

    assert parse_collection(data, "hotels.json") == [
        {"id": 1, "photo": "https://a/1.jpg"},
        {"id": 2},
    ]


def test_json_lines_skip_blank_lines_and_accept_windows_line_ends() -> None:
    data = b'{"id": 1}\r\n\r\n   \n{"id": 2}\n'

    assert parse_collection(data, "hotels.jsonl") == [{"id": 1}, {"id": 2}]


def test_a_byte_order_mark_is_ignored() -> None:
    assert parse_collection(b'\xef\xbb\xbf[{"id": 1}]') == [{"id": 1}]
    assert parse_collection(b"\xef\xbb\xbfid,photo\n1,x\n") == [{"id": "1", "photo": "x"}]


def test_the_content_decides_without_a_known_extension() -> None:
    assert parse_collection(b'  [{"id": 1}]', "export.txt") == [{"id": 1}]
    assert parse_collection(b'{"id": 1}\n{"id": 2}', None) == [{"id": 1}, {"id": 2}]
    assert parse_collection(b"id\n7\n", None) == [{"id": "7"}]


def test_one_object_is_a_collection_of_one_even_when_pretty_printed() -> None:
    assert parse_collection(b'{"id": 1}') == [{"id": 1}]
    assert parse_collection(b'{\n  "id": 1,\n  "photo": "x"\n}\n', "one.json") == [
        {"id": 1, "photo": "x"}
    ]


def test_a_json_extension_with_one_object_a_line_is_read_as_mongoexport_writes_it() -> None:
    data = b'{"_id": {"$oid": "507f1f77bcf86cd799439011"}}\n{"_id": {"$oid": "5"}}\n'

    assert len(parse_collection(data, "hotels.JSON")) == 2


def test_the_csv_extension_wins_over_content_that_looks_like_json() -> None:
    assert parse_collection(b"[note]\nx\n", "list.csv") == [{"[note]": "x"}]


def test_a_bad_json_line_is_named() -> None:
    data = b'{"id": 1}\n\n{"id": 2,,}\n'

    with pytest.raises(InvalidInput, match=r"^Line 3 is not valid JSON: .*column 10"):
        parse_collection(data, "hotels.ndjson")


def test_a_line_that_is_not_an_object_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"^Line 2 is a list, not an object"):
        parse_collection(b'{"id": 1}\n[1, 2]\n')


def test_an_array_item_that_is_not_an_object_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"^Item 2 of the array is text, not an object"):
        parse_collection(b'[{"id": 1}, "https://a/1.jpg"]')


def test_a_broken_array_says_where() -> None:
    with pytest.raises(InvalidInput, match=r"^The file is not valid JSON: .*\(line 2, column"):
        parse_collection(b'[{"id": 1},\n {"id": }]')


def test_text_that_is_not_utf8_is_refused_in_plain_words() -> None:
    with pytest.raises(InvalidInput, match=r"^The file is not UTF-8 text \(byte 3 .*UTF-8"):
        parse_collection(b"id\n\xe9t\xe9\n", "latin1.csv")


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^The file is empty."):
        parse_collection(b" \n\t\n", "x.json")


def test_csv_rows_are_text_named_by_the_first_line() -> None:
    data = b'id,name,photo\n1,"Hotel, Madrid","https://a/1.jpg"\n\n,,\n2,"two\nlines",\n'

    rows = parse_collection(data, "hotels.csv")

    assert rows == [
        {"id": "1", "name": "Hotel, Madrid", "photo": "https://a/1.jpg"},
        {"id": "2", "name": "two\nlines", "photo": ""},
    ]
    assert all(isinstance(row, CsvRow) for row in rows)


def test_csv_saved_with_semicolons_or_tabs_is_read() -> None:
    assert parse_collection(b"id;price\n1;3,5\n") == [{"id": "1", "price": "3,5"}]
    assert parse_collection(b"id\tphoto\n1\tx\n") == [{"id": "1", "photo": "x"}]


def test_short_csv_rows_leave_fields_out_and_unnamed_columns_are_dropped() -> None:
    assert parse_collection(b"id,photo,\n1\n2,x,\n", "a.csv") == [
        {"id": "1"},
        {"id": "2", "photo": "x"},
    ]


def test_a_csv_row_with_more_cells_than_columns_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"^Line 3 has 3 cells but the first line names 2"):
        parse_collection(b"id,photo\n1,x\n2,y,z\n", "a.csv")


def test_a_csv_header_must_name_each_column_once() -> None:
    with pytest.raises(InvalidInput, match=r"The column 'photo' is named twice"):
        parse_collection(b"photo,id,photo\n", "a.csv")
    with pytest.raises(InvalidInput, match=r"must name its columns"):
        parse_collection(b",,\n1,2,3\n", "a.csv")


def test_broken_csv_quoting_names_the_line() -> None:
    with pytest.raises(InvalidInput, match=r"^Line 2 is not valid CSV: ',' expected"):
        parse_collection(b'id,photo\n1,"x"y"\n', "a.csv")
    with pytest.raises(InvalidInput, match=r"^Line 3 is not valid CSV: unexpected end"):
        parse_collection(b'id,photo\n1,"https://a/1.jpg\n2,x\n', "a.csv")


def test_a_quote_inside_an_unquoted_csv_cell_is_text() -> None:
    assert parse_collection(b'id,size\n1,5" screen\n', "a.csv") == [
        {"id": "1", "size": '5" screen'}
    ]


# --- field_values ---------------------------------------------------------------------------


DOCUMENT: dict[str, Any] = {
    "photo": "https://a/main.jpg",
    "images": [{"url": "https://a/1.jpg"}, {"alt": "no url"}, {"url": "https://a/2.jpg"}],
    "gallery": {"front": {"src": "https://a/f.jpg"}, "back": {"src": "https://a/b.jpg"}},
    "a": {"b": [{"c": [{"d": 1}, {"d": 2}]}, {"c": [{"d": 3}]}, {"c": "not a list"}]},
    "tags": ["x", "y"],
    "meta.sku": "flat dotted key",
    "meta": {"sku": "nested"},
}


@pytest.mark.parametrize(
    ("path", "values"),
    [
        ("photo", ["https://a/main.jpg"]),
        ("images[].url", ["https://a/1.jpg", "https://a/2.jpg"]),
        ("images.url", ["https://a/1.jpg", "https://a/2.jpg"]),
        ("images.1.alt", ["no url"]),
        ("images.9.url", []),
        ("gallery.*.src", ["https://a/f.jpg", "https://a/b.jpg"]),
        ("a.b[].c[].d", [1, 2, 3]),
        ("tags", [["x", "y"]]),
        ("tags[]", ["x", "y"]),
        ("tags.*", ["x", "y"]),
        ("meta.sku", ["flat dotted key"]),
        (" photo ", ["https://a/main.jpg"]),
        ("missing", []),
        ("photo.deeper", []),
        ("images[].url[]", []),
        ("gallery.front[].src", []),
    ],
)
def test_each_path_form_reads_what_it_names(path: str, values: list[Any]) -> None:
    assert field_values(DOCUMENT, path) == values


def test_a_csv_column_named_like_a_path_is_read_first() -> None:
    row = CsvRow({"images[].url": "https://a/1.jpg"})

    assert field_values(row, "images[].url") == ["https://a/1.jpg"]


@pytest.mark.parametrize("path", ["", "a..b", "a.", "img[0]", "a*b", "a[].[]"])
def test_a_malformed_path_is_refused(path: str) -> None:
    with pytest.raises(InvalidInput, match=r"is not valid: write names joined by dots"):
        field_values({"x": 1}, path)


# --- plan_documents -------------------------------------------------------------------------


def test_each_document_gets_its_urls_numbered_from_one() -> None:
    plan = _plan(
        [
            {"id": "a", "photo": ["https://a/1.jpg", "https://a/2.jpg"]},
            {"id": 7, "photo": "https://b/1.jpg"},
        ]
    )

    assert plan.collection == "hotels"
    assert _urls(plan) == {
        "a": [(1, "https://a/1.jpg"), (2, "https://a/2.jpg")],
        "7": [(1, "https://b/1.jpg")],
    }
    assert [document.field for document in plan.documents] == ["photo", "photo"]
    assert plan.total == 3


def test_urls_are_stripped_and_empty_repeated_and_non_text_values_dropped() -> None:
    plan = _plan(
        [
            {
                "id": "a",
                "photo": [" https://a/1.jpg ", "", "  ", None, 5, {"u": 1}, "https://a/1.jpg"],
            },
        ]
    )

    assert _urls(plan) == {"a": [(1, "https://a/1.jpg")]}


def test_a_url_is_kept_as_written_the_downloader_judges_it() -> None:
    plan = _plan([{"id": "a", "photo": ["ftp://a/1.jpg", "not a url"]}])

    assert _urls(plan) == {"a": [(1, "ftp://a/1.jpg"), (2, "not a url")]}


def test_the_same_url_in_two_documents_is_fetched_for_each() -> None:
    plan = _plan([{"id": "a", "photo": "https://x/1.jpg"}, {"id": "b", "photo": "https://x/1.jpg"}])

    assert plan.total == 2


def test_a_csv_cell_may_list_several_urls() -> None:
    rows = parse_collection(
        b'id,photo\n1,"https://a/1.jpg | https://a/2.jpg;https://a/3.jpg\nhttps://a/1.jpg"\n',
        "a.csv",
    )

    assert _urls(_plan(rows)) == {
        "1": [(1, "https://a/1.jpg"), (2, "https://a/2.jpg"), (3, "https://a/3.jpg")]
    }


def test_a_json_string_is_one_url_even_with_separators_in_it() -> None:
    plan = _plan([{"id": "a", "photo": "https://a/x;v=2|b.jpg"}])

    assert _urls(plan) == {"a": [(1, "https://a/x;v=2|b.jpg")]}


def test_documents_without_urls_are_left_out_of_the_plan() -> None:
    plan = _plan([{"id": "a"}, {"id": "b", "photo": "https://b/1.jpg"}, {"id": "c", "photo": ""}])

    assert [document.id for document in plan.documents] == ["b"]


def test_a_mongoexport_object_id_names_the_folder() -> None:
    plan = _plan(
        [{"_id": {"$oid": "507f1f77bcf86cd799439011"}, "photo": "https://a/1.jpg"}],
        id_field="_id",
    )

    assert plan.documents[0].id == "507f1f77bcf86cd799439011"


def test_a_nested_id_field_is_read_by_path() -> None:
    plan = _plan([{"ref": {"sku": " S-1 "}, "photo": "https://a/1.jpg"}], id_field="ref.sku")

    assert plan.documents[0].id == "S-1"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"photo": "x"}, "^Document 2 has no 'id' to name its folder."),
        ({"id": " ", "photo": "x"}, "^Document 2 has no 'id'"),
        ({"id": None, "photo": "x"}, "^Document 2 has no 'id'"),
        ({"id": 1.5, "photo": "x"}, "^Document 2 has a number in 'id'; an id is text or a whole"),
        ({"id": True, "photo": "x"}, "^Document 2 has true or false in 'id'"),
        ({"id": ["a"], "photo": "x"}, "^Document 2 has a list in 'id'"),
    ],
)
def test_a_document_without_a_usable_id_is_refused_by_position(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        _plan([{"id": "a", "photo": "x"}, document])


def test_an_id_path_with_several_values_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^Document 1 has 2 values in 'ids\[\]'"):
        _plan([{"ids": ["a", "b"], "photo": "x"}], id_field="ids[]")


def test_two_documents_with_one_id_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^Documents 1 and 3 have the same id '7'"):
        _plan([{"id": 7, "photo": "x"}, {"id": 8, "photo": "y"}, {"id": "7", "photo": "z"}])


def test_two_ids_that_would_share_a_folder_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^Documents 1 and 2 would share the folder 'a_b'"):
        _plan([{"id": "a/b", "photo": "x"}, {"id": "a b", "photo": "y"}])


def test_a_filter_keeps_documents_where_every_field_equals_its_value() -> None:
    documents = [
        {"id": 1, "city": "Madrid", "stars": 4, "photo": "x"},
        {"id": 2, "city": "Madrid", "stars": 3, "photo": "x"},
        {"id": 3, "city": "Sevilla", "stars": 4, "photo": "x"},
        {"id": 4, "place": {"city": "Madrid"}, "stars": 4.0, "photo": "x"},
    ]

    plan = _plan(documents, filter={"city": "Madrid", "stars": 4})
    nested = _plan(documents, filter={"place.city": "Madrid"})

    assert [document.id for document in plan.documents] == ["1"]
    assert [document.id for document in nested.documents] == ["4"]


def test_json_values_compare_by_type() -> None:
    documents = [
        {"id": 1, "stars": "4", "open": 1, "photo": "x"},
        {"id": 2, "stars": 4.0, "open": True, "photo": "x"},
        {"id": 3, "stars": [4], "open": [True], "photo": "x"},
    ]

    assert [d.id for d in _plan(documents, filter={"stars": 4}).documents] == ["2", "3"]
    assert [d.id for d in _plan(documents, filter={"stars": "4"}).documents] == ["1"]
    assert [d.id for d in _plan(documents, filter={"open": True}).documents] == ["2", "3"]
    assert [d.id for d in _plan(documents, filter={"open": 1}).documents] == ["1"]
    assert [d.id for d in _plan(documents, filter={"stars": [4]}).documents] == ["3"]


def test_a_filter_value_matches_a_list_that_holds_it() -> None:
    documents = [
        {"id": 1, "tags": ["beach", "sun"], "photo": "x"},
        {"id": 2, "tags": ["city"], "photo": "x"},
    ]

    plan = _plan(documents, filter={"tags": "beach"})

    assert [document.id for document in plan.documents] == ["1"]


def test_a_null_filter_matches_a_missing_or_null_field() -> None:
    documents: list[dict[str, Any]] = [
        {"id": 1, "deleted": None, "photo": "x"},
        {"id": 2, "photo": "x"},
        {"id": 3, "deleted": False, "photo": "x"},
    ]

    plan = _plan(documents, filter={"deleted": None})

    assert [document.id for document in plan.documents] == ["1", "2"]


def test_csv_cells_compare_as_the_filter_value_is_written() -> None:
    rows = parse_collection(
        b"id,stars,open,city,note,photo\n"
        b"1,4,TRUE, Madrid ,,x\n"
        b"2,4.0,false,Madrid,n,x\n"
        b"3,four,true,Sevilla,,x\n",
        "a.csv",
    )

    def ids(condition: dict[str, Any]) -> list[str]:
        return [document.id for document in _plan(rows, filter=condition).documents]

    assert ids({"stars": 4}) == ["1", "2"]
    assert ids({"stars": "4"}) == ["1"]
    assert ids({"open": True}) == ["1", "3"]
    assert ids({"city": "Madrid"}) == ["1", "2"]
    assert ids({"note": None}) == ["1", "3"]
    assert ids({"missing": None}) == ["1", "2", "3"]
    with pytest.raises(InvalidInput, match=r"No document matches the filter"):
        ids({"stars": [4]})


def test_a_filter_operator_is_refused_in_plain_words() -> None:
    with pytest.raises(InvalidInput, match=r"^The filter on 'stars' uses an operator"):
        _plan([{"id": 1, "photo": "x"}], filter={"stars": {"$gt": 3}})


def test_limit_counts_matching_documents_in_order() -> None:
    documents = [
        {"id": 1, "city": "Madrid", "photo": "x"},
        {"id": 2, "city": "Sevilla", "photo": "x"},
        {"id": 3, "city": "Madrid"},
        {"id": 4, "city": "Madrid", "photo": "x"},
        {"id": 5, "city": "Madrid", "photo": "x"},
    ]

    plan = _plan(documents, filter={"city": "Madrid"}, limit=3)

    # Document 3 matched and counts, though it has no URL to fetch.
    assert [document.id for document in plan.documents] == ["1", "4"]


def test_the_limit_stops_before_documents_that_would_be_refused() -> None:
    plan = _plan([{"id": 1, "photo": "x"}, {"photo": "no id"}], limit=1)

    assert plan.total == 1


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^The limit must be at least 1."):
        _plan([{"id": 1, "photo": "x"}], limit=0)


def test_only_document_plans_just_that_one() -> None:
    documents: list[dict[str, Any]] = [
        {"photo": "no id, never the one asked for"},
        {"id": 41, "photo": "https://a/41.jpg"},
        {"id": 42, "photo": "https://a/42.jpg"},
    ]

    plan = _plan(documents, only_document=" 42 ")

    assert _urls(plan) == {"42": [(1, "https://a/42.jpg")]}


def test_only_document_that_does_not_exist_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"^No document has the id '9'."):
        _plan([{"id": 1, "photo": "x"}], only_document="9")


def test_only_document_outside_the_filter_matches_nothing() -> None:
    with pytest.raises(InvalidInput, match=r"^No document matches the filter."):
        _plan([{"id": 1, "city": "Sevilla", "photo": "x"}], only_document="1", filter={"city": "M"})


def test_a_filter_that_matches_nothing_says_so() -> None:
    with pytest.raises(InvalidInput, match=r"^No document matches the filter."):
        _plan([{"id": 1, "photo": "x"}], filter={"city": "Madrid"})


def test_no_documents_at_all_says_so() -> None:
    with pytest.raises(InvalidInput, match=r"^The collection has no documents."):
        _plan([])


def test_a_field_no_document_has_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"^No document has the field 'picture'."):
        _plan([{"id": 1, "photo": "x"}, {"id": 2, "picture": None}], url_field="picture")


def test_a_field_without_urls_counts_the_documents() -> None:
    with pytest.raises(InvalidInput, match=r"^No image URLs found in field 'photo' of the 2 doc"):
        _plan([{"id": 1, "photo": ""}, {"id": 2, "photo": 3}])
    with pytest.raises(InvalidInput, match=r"^No image URLs found in field 'photo' of the doc"):
        _plan([{"id": 1, "photo": [" "]}])


def test_a_field_of_objects_suggests_the_key_inside() -> None:
    with pytest.raises(InvalidInput, match=r"It holds objects: .*such as 'images\[\]\.url'"):
        _plan([{"id": 1, "images": [{"url": "x"}]}], url_field="images")


def test_more_images_than_allowed_are_refused_with_the_count() -> None:
    documents = [{"id": n, "photo": [f"https://a/{n}/{i}.jpg" for i in range(3)]} for n in range(4)]

    with pytest.raises(
        InvalidInput, match=r"^Import at most 10 images at once; the 4 documents hold 12\."
    ):
        _plan(documents, max_images=10)
    assert _plan(documents, max_images=12).total == 12


def test_the_collection_name_is_checked_and_stripped() -> None:
    assert _plan([{"id": 1, "photo": "x"}], max_images=1).collection == "hotels"
    assert plan_documents(
        "  hotels ", [{"id": 1, "photo": "x"}], id_field="id", url_field="photo", max_images=1
    ).collection == ("hotels")
    with pytest.raises(InvalidInput, match=r"^Give the collection a name."):
        plan_documents(
            " ", [{"id": 1, "photo": "x"}], id_field="id", url_field="photo", max_images=1
        )


# --- plan_urls ------------------------------------------------------------------------------


def test_pasted_text_gives_one_document_of_urls_in_order() -> None:
    text = (
        "# hotel photos\n"
        "https://a/1.jpg\r\n"
        "  https://a/2.jpg https://a/3.jpg\n"
        "\n"
        "https://a/4.jpg, https://a/5.jpg,https://a/6.jpg,\n"
        "   # https://a/commented.jpg\n"
        "https://a/1.jpg\n"
    )

    plan = plan_urls("trip", text, document_id="pasted", max_images=10)

    assert plan.collection == "trip"
    assert [document.field for document in plan.documents] == ["url"]
    assert _urls(plan) == {"pasted": [(n, f"https://a/{n}.jpg") for n in range(1, 7)]}


def test_a_comma_inside_a_pasted_url_stays() -> None:
    url = "https://res.example.com/image/upload/w_300,h_200,c_fill/sample.jpg"

    plan = plan_urls("c", f"{url},HTTPS://b/2.jpg", document_id="p", max_images=10)

    assert _urls(plan) == {"p": [(1, url), (2, "HTTPS://b/2.jpg")]}


def test_a_list_of_urls_keeps_each_item_whole() -> None:
    urls = [" https://a/1.jpg ", "", "https://a/x,y.jpg", "https://a/1.jpg", "#fragment-only"]

    plan = plan_urls("c", urls, document_id=" p ", max_images=10)

    assert _urls(plan) == {
        "p": [(1, "https://a/1.jpg"), (2, "https://a/x,y.jpg"), (3, "#fragment-only")]
    }


def test_nothing_pasted_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^Paste at least one image URL."):
        plan_urls("c", "# only a comment\n\n , \n", document_id="p", max_images=10)


def test_a_pasted_list_needs_a_document_id() -> None:
    with pytest.raises(InvalidInput, match=r"^Give the pasted URLs a document id"):
        plan_urls("c", "https://a/1.jpg", document_id=" ", max_images=10)


def test_too_many_pasted_urls_are_refused_with_the_count() -> None:
    text = "\n".join(f"https://a/{n}.jpg" for n in range(6210))

    with pytest.raises(
        InvalidInput, match=r"^Give at most 5000 URLs in one import; this list has 6210\.$"
    ):
        plan_urls("c", text, document_id="p", max_images=5000)


# --- ImportPlan -----------------------------------------------------------------------------


PLAN = ImportPlan(
    "hotels",
    (
        PlannedDocument(
            "a",
            "images[].url",
            (PlannedImage("https://a/1.jpg", 1), PlannedImage("https://a/2.jpg", 2)),
        ),
        PlannedDocument("b", "images[].url", (PlannedImage("https://b/1.jpg", 1),)),
    ),
)


def test_a_plan_survives_being_stored_as_json() -> None:
    stored = json.loads(json.dumps(PLAN.to_json()))

    assert ImportPlan.from_json(stored) == PLAN
    assert stored["documents"][0]["images"] == [[1, "https://a/1.jpg"], [2, "https://a/2.jpg"]]


def test_only_failed_keeps_those_images_under_their_numbers() -> None:
    retry = PLAN.only_failed({"a": {2}, "b": set(), "gone": {1}})

    assert retry == ImportPlan(
        "hotels",
        (PlannedDocument("a", "images[].url", (PlannedImage("https://a/2.jpg", 2),)),),
    )
    assert retry.total == 1
    assert PLAN.only_failed({}).total == 0


# --- key_segment and folders ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "segment"),
    [
        ("507f1f77bcf86cd799439011", "507f1f77bcf86cd799439011"),
        ("Hotel_Madrid-2.v1", "Hotel_Madrid-2.v1"),
        ("a/b", "a_b"),
        ("../../etc/passwd", "__.._etc_passwd"),
        ("..", "_"),
        (".", "_"),
        (".hidden", "_hidden"),
        ("a\x00b", "a_b"),
        ("a / \\ b", "a_b"),
        ("a__b", "a__b"),
        ("  spaced  ", "spaced"),
        ("", "_"),
        ("   ", "_"),
        ("/", "_"),
        ("Ma\u0301laga", "Málaga"),
        ("東京 ホテル", "東京_ホテル"),
        ("hotel 🏨", "hotel_"),
        ("a\u202eb\u200bc", "a_b_c"),
    ],
)
def test_key_segment_keeps_safe_characters_only(text: str, segment: str) -> None:
    assert key_segment(text) == segment


def test_a_long_text_is_cut_and_keeps_a_hash_of_all_of_it() -> None:
    first, second = "x" * 150 + "1", "x" * 150 + "2"

    assert len(key_segment(first)) == 100
    assert key_segment(first).startswith("x" * 87 + "-")
    assert key_segment(first) != key_segment(second)
    assert key_segment(first) == key_segment(first)


def test_a_long_text_in_another_script_stays_within_100_bytes() -> None:
    segment = key_segment("東" * 80)

    assert len(segment.encode()) <= 100
    assert segment.startswith("東" * 29 + "-")


def test_the_document_folder_follows_the_storage_layout() -> None:
    assert document_folder("hotels", "507f", "photo") == "hotels/507f-photo/"
    assert document_folder("my hotels", "a/b", "images[].url") == "my_hotels/a_b-images.url/"
    assert document_folder("h", "1", "gallery.*.src") == "h/1-gallery.all.src/"
    assert document_folder("..", "..", "..") == "_/_-_/"


@given(st.text())
def test_key_segment_is_always_one_safe_non_empty_segment(text: str) -> None:
    segment = key_segment(text)

    assert segment
    assert "/" not in segment and "\\" not in segment and "\x00" not in segment
    assert segment not in {".", ".."} and not segment.startswith(".")
    assert len(segment.encode()) <= 100
    assert key_segment(segment) == segment


@given(st.text(), st.text())
def test_distinct_long_texts_keep_distinct_segments(first_end: str, second_end: str) -> None:
    # Only the text as key_segment reads it (spaces around cut, NFC) tells two texts apart.
    first, second = ("x" * 100 + end.rstrip() for end in (first_end, second_end))
    assume(unicodedata.normalize("NFC", first) != unicodedata.normalize("NFC", second))

    assert key_segment(first) != key_segment(second)


def test_collection_names_are_one_to_a_hundred_characters() -> None:
    assert validate_collection_name("  hotels  ") == "hotels"
    assert validate_collection_name("x" * 100) == "x" * 100
    with pytest.raises(InvalidInput, match=r"^Give the collection a name."):
        validate_collection_name(" \t ")
    with pytest.raises(InvalidInput, match=r"at most 100 characters; this one has 101."):
        validate_collection_name("x" * 101)
