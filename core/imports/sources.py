"""What a bulk image import fetches: the documents of an uploaded collection (JSON, JSON Lines or
CSV) or a pasted list of URLs, turned into an `ImportPlan` of numbered URLs per document.

Every image lands at `{collection}/{document_id}-{field}/original/img_{number:03d}.{ext}`
(`document_folder` builds the first part); a URL keeps its number for the life of the job, so a
retry of only the failures writes the same names.

Field paths are dotted names, read like MongoDB's dot notation:

- `photo`: the value of that key; a list of URLs there gives each URL.
- `images[].url`: `[]` goes through each item of a list. A plain name also goes through a list
  of objects (`images.url` reads the same), and a number picks one item (`images.0.url`).
- `gallery.*.src`: `*` goes through every value of an object (or every item of a list).
- A key that equals the whole path is read first: a CSV column named `images[].url`, or a
  document with a literal dotted key.
- Spaces around a name are ignored; a missing part gives no value, never an error.

A filter keeps the documents where every path has a value equal to the one given, or a list
holding it. JSON values compare as JSON does: `"3"` is not `3` and `true` is not `1`; `null`
also matches a missing field. A CSV cell is text, so it is read the way the filter value is
written: a number as a number (`"4.0"` equals `4`), `true`/`false` in any case, `null` as an empty
cell, text with the spaces around it ignored.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput

MAX_COLLECTION_NAME = 100
# In UTF-8 bytes, not characters: "{document_id}-{field}" is one file name in the embedded
# folder backend, and file systems allow 255 bytes there.
MAX_KEY_SEGMENT = 100
_HASH_LENGTH = 12
_PATH_EXAMPLE = "such as 'images[].url'"


@dataclass(frozen=True)
class PlannedImage:
    url: str
    # 1-based place of the URL inside its document; its file is `img_{number:03d}`.
    number: int


@dataclass(frozen=True)
class PlannedDocument:
    id: str
    field: str
    images: tuple[PlannedImage, ...]


@dataclass(frozen=True)
class ImportPlan:
    collection: str
    documents: tuple[PlannedDocument, ...]

    @property
    def total(self) -> int:
        return sum(len(document.images) for document in self.documents)

    def to_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "documents": [
                {
                    "id": document.id,
                    "field": document.field,
                    "images": [[image.number, image.url] for image in document.images],
                }
                for document in self.documents
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportPlan:
        return cls(
            collection=str(data["collection"]),
            documents=tuple(
                PlannedDocument(
                    id=str(document["id"]),
                    field=str(document["field"]),
                    images=tuple(
                        PlannedImage(url=str(url), number=int(number))
                        for number, url in document["images"]
                    ),
                )
                for document in data["documents"]
            ),
        )

    def only_failed(self, numbers_by_document: Mapping[str, Collection[int]]) -> ImportPlan:
        """The same plan holding only the given images of each document, under their numbers."""
        documents = []
        for document in self.documents:
            wanted = numbers_by_document.get(document.id, ())
            images = tuple(image for image in document.images if image.number in wanted)
            if images:
                documents.append(PlannedDocument(document.id, document.field, images))
        return ImportPlan(self.collection, tuple(documents))


class CsvRow(dict[str, str]):
    """A document read from a CSV file: every value is a cell's text, which is why a cell may
    hold several URLs and why filters read it by the type of the value they compare it with."""


# --- Reading a file -------------------------------------------------------------------------


def parse_collection(data: bytes, filename: str | None = None) -> list[dict[str, Any]]:
    """The documents of an uploaded file, in file order.

    The extension `.csv` means CSV and `.json`, `.jsonl` or `.ndjson` mean JSON; without one of
    those, text starting with `[` or `{` is JSON and anything else CSV. JSON starting with `[`
    is one array of objects, otherwise one object per line: mongoexport writes that under
    `.json` too. A CSV file's first line names its columns.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"The file is not UTF-8 text (byte {error.start} is not valid). "
            "Save it as UTF-8 and try again."
        ) from None
    content = text.lstrip()
    if not content:
        raise InvalidInput("The file is empty.")
    suffix = filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    if suffix == "csv" or (suffix not in {"json", "jsonl", "ndjson"} and content[0] not in "[{"):
        return list(_csv_rows(text))
    if content.startswith("["):
        return _json_array(text)
    return _json_lines(text)


def _json_array(text: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"The file is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    if not isinstance(value, list):
        raise InvalidInput("The file is not one JSON array of objects.")
    return [
        _object(item, f"Item {position} of the array") for position, item in enumerate(value, 1)
    ]


def _json_lines(text: str) -> list[dict[str, Any]]:
    documents = []
    # Not splitlines(): it also splits at U+2028, which JSON allows unescaped inside a string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            # One pretty-printed object is a JSON file too; only then is the line error wrong.
            single = _single_object(text)
            if single is not None:
                return [single]
            raise InvalidInput(
                f"Line {number} is not valid JSON: {error.msg} (column {error.colno})."
            ) from None
        documents.append(_object(value, f"Line {number}"))
    return documents


def _single_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{where} is {_kind(value)}, not an object with fields.")
    return value


def _csv_rows(text: str) -> Iterator[dict[str, Any]]:
    delimiter = _delimiter(text.split("\n", 1)[0])
    # Strict: an unclosed quote would otherwise swallow the rest of the file into one cell.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
        _check_header(header)
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if any(cell.strip() for cell in row[len(header) :]):
                raise InvalidInput(
                    f"Line {reader.line_num} has {len(row)} cells but the first line names "
                    f"{len(header)} columns."
                )
            # An unnamed column (a trailing delimiter in the first line) has nothing to read by.
            yield CsvRow((name, cell) for name, cell in zip(header, row, strict=False) if name)
    except csv.Error as error:
        raise InvalidInput(f"Line {reader.line_num} is not valid CSV: {error}.") from None


def _delimiter(first_line: str) -> str:
    # Spreadsheets set to a comma decimal separator save with ";" (or a tab): the header row
    # has no numbers in it, so its most frequent separator is the one.
    counts = {candidate: first_line.count(candidate) for candidate in ",;\t"}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _check_header(header: list[str]) -> None:
    names = [name for name in header if name]
    if not names:
        raise InvalidInput("The first line of a CSV file must name its columns.")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidInput(f"The column '{name}' is named twice in the first line.")
        seen.add(name)


# --- Reading a document ---------------------------------------------------------------------


def field_values(document: Mapping[str, Any], path: str) -> list[Any]:
    """Every value at `path` in `document` (see the module's notes); [] when there is none."""
    if path in document:
        return [document[path]]
    values: list[Any] = [document]
    for name, lists in _parse_path(path):
        values = [child for value in values for child in _children(value, name)]
        for _ in range(lists):
            values = [item for value in values if isinstance(value, list) for item in value]
    return values


# A name, or `*` for every value, then one `[]` per level of list to go through.
_PATH_STEP = re.compile(r"(?:(?P<name>[^.\[\]*]+)|\*)(?P<lists>(?:\[\])*)")


@functools.lru_cache(maxsize=256)
def _parse_path(path: str) -> tuple[tuple[str | None, int], ...]:
    steps = []
    for part in path.split("."):
        match = _PATH_STEP.fullmatch(part.strip())
        if match is None:
            raise InvalidInput(
                f"The field path '{path}' is not valid: write names joined by dots, with [] "
                f"after a list and * for every value, {_PATH_EXAMPLE}."
            )
        steps.append((match["name"], len(match["lists"]) // 2))
    return tuple(steps)


def _children(value: Any, name: str | None) -> list[Any]:
    if name is None:
        if isinstance(value, Mapping):
            return list(value.values())
        return list(value) if isinstance(value, list) else []
    if isinstance(value, Mapping):
        return [value[name]] if name in value else []
    if isinstance(value, list):
        if name.isascii() and name.isdigit():
            index = int(name)
            return [value[index]] if index < len(value) else []
        return [item[name] for item in value if isinstance(item, Mapping) and name in item]
    return []


# --- Planning -------------------------------------------------------------------------------


def plan_documents(
    collection: str,
    documents: Sequence[Mapping[str, Any]],
    *,
    id_field: str,
    url_field: str,
    filter: Mapping[str, Any] | None = None,
    limit: int | None = None,
    only_document: str | None = None,
    max_images: int,
) -> ImportPlan:
    """The images of the documents that match, in document order.

    `limit` counts matching documents, whether or not they hold a URL. Each planned document
    needs an id of its own in `id_field`: it names the folder. URLs are taken as they are (the
    downloader checks and reports each); empty ones and repeats within a document are dropped.
    """
    name = validate_collection_name(collection)
    if limit is not None and limit < 1:
        raise InvalidInput("The limit must be at least 1.")
    conditions = dict(filter or {})
    _check_filter(conditions)
    if not documents:
        raise InvalidInput("The collection has no documents.")
    wanted_id = only_document.strip() if only_document is not None else None

    matched: list[tuple[int, str, Mapping[str, Any]]] = []
    id_found = False
    for position, document in enumerate(documents, start=1):
        if wanted_id is not None:
            if _id_or_none(document, id_field, position) != wanted_id:
                continue
            id_found = True
        if not all(_matches(document, path, value) for path, value in conditions.items()):
            continue
        matched.append((position, _document_id(document, id_field, position), document))
        if limit is not None and len(matched) == limit:
            break
    if not matched:
        if wanted_id is not None and not id_found:
            raise InvalidInput(f"No document has the {id_field} '{wanted_id}'.")
        raise InvalidInput("No document matches the filter.")

    planned = []
    folders: dict[str, tuple[int, str]] = {}
    field_found = holds_objects = False
    for position, document_id, document in matched:
        values = [
            value for value in _flatten(field_values(document, url_field)) if value is not None
        ]
        field_found = field_found or bool(values)
        holds_objects = holds_objects or any(isinstance(value, Mapping) for value in values)
        urls = _urls(values, split_cells=isinstance(document, CsvRow))
        if not urls:
            continue
        _claim_folder(folders, key_segment(document_id), position, document_id)
        images = tuple(PlannedImage(url, number) for number, url in enumerate(urls, start=1))
        planned.append(PlannedDocument(document_id, url_field, images))

    plan = ImportPlan(name, tuple(planned))
    if not plan.documents:
        raise InvalidInput(_nothing_found(url_field, len(matched), field_found, holds_objects))
    if plan.total > max_images:
        raise InvalidInput(
            f"Import at most {max_images} images at once; {_documents(len(matched))} hold "
            f"{plan.total}. Narrow them with a filter or a limit."
        )
    return plan


def plan_urls(
    collection: str, text_or_urls: str | Sequence[str], *, document_id: str, max_images: int
) -> ImportPlan:
    """One document of pasted URLs, in the order given, repeats dropped.

    Pasted text holds one URL a line or several separated by spaces or commas; a line starting
    with `#` is a comment. A comma separates only before a space, at the end of a line or before
    another `scheme://`, so one inside a URL (image CDNs write `w_300,h_200`) stays. A sequence
    holds one URL an item.
    """
    name = validate_collection_name(collection)
    folder_id = document_id.strip()
    if not folder_id:
        raise InvalidInput("Give the pasted URLs a document id: it names their folder.")
    if isinstance(text_or_urls, str):
        pieces = [
            piece.strip(",")
            for line in text_or_urls.split("\n")
            if not line.lstrip().startswith("#")
            for piece in _PASTE_SEPARATOR.split(line)
        ]
    else:
        pieces = list(text_or_urls)
    urls = _urls(pieces, split_cells=False)
    if not urls:
        raise InvalidInput("Paste at least one image URL.")
    if len(urls) > max_images:
        raise InvalidInput(
            f"Give at most {max_images} URLs in one import; this list has {len(urls)}."
        )
    images = tuple(PlannedImage(url, number) for number, url in enumerate(urls, start=1))
    return ImportPlan(name, (PlannedDocument(folder_id, "url", images),))


_PASTE_SEPARATOR = re.compile(r"\s+|,(?=[a-z][a-z0-9+.-]*://)", re.IGNORECASE)
# URLs never hold raw whitespace, `|` or `;` rarely: in a CSV cell they are the only way to
# list several.
_CELL_SEPARATOR = re.compile(r"[\s|;]+")


def _urls(values: Sequence[Any], *, split_cells: bool) -> list[str]:
    urls: dict[str, None] = {}  # a dict keeps the first place of each URL
    for value in values:
        if not isinstance(value, str):
            continue
        for url in _CELL_SEPARATOR.split(value) if split_cells else [value]:
            if url.strip():
                urls.setdefault(url.strip(), None)
    return list(urls)


def _flatten(values: Sequence[Any]) -> Iterator[Any]:
    for value in values:
        if isinstance(value, list):
            yield from _flatten(value)
        else:
            yield value


def _document_id(document: Mapping[str, Any], id_field: str, position: int) -> str:
    values = field_values(document, id_field)
    if len(values) > 1:
        raise InvalidInput(
            f"Document {position} has {len(values)} values in '{id_field}'; choose an id field "
            "with one value per document."
        )
    value = values[0] if values else None
    # mongoexport writes an ObjectId as {"$oid": "..."}.
    if isinstance(value, Mapping) and value.keys() == {"$oid"}:
        value = value["$oid"]
    if isinstance(value, str):
        value = value.strip()
        if value:
            return value
    elif isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None or value == "":
        raise InvalidInput(f"Document {position} has no '{id_field}' to name its folder.")
    raise InvalidInput(
        f"Document {position} has {_kind(value)} in '{id_field}'; an id is text or a whole number."
    )


def _id_or_none(document: Mapping[str, Any], id_field: str, position: int) -> str | None:
    try:
        return _document_id(document, id_field, position)
    except InvalidInput:
        return None  # a document without a usable id cannot be the one asked for


def _claim_folder(
    folders: dict[str, tuple[int, str]], folder: str, position: int, document_id: str
) -> None:
    if folder not in folders:
        folders[folder] = (position, document_id)
        return
    first_position, first_id = folders[folder]
    if first_id == document_id:
        raise InvalidInput(
            f"Documents {first_position} and {position} have the same id '{document_id}'; "
            "each document needs its own."
        )
    raise InvalidInput(
        f"Documents {first_position} and {position} would share the folder '{folder}' "
        f"('{first_id}' and '{document_id}'): their ids differ only in characters a folder "
        "name cannot hold."
    )


def _nothing_found(url_field: str, matched: int, field_found: bool, holds_objects: bool) -> str:
    if not field_found:
        return f"No document has the field '{url_field}'."
    message = f"No image URLs found in field '{url_field}' of {_documents(matched)}."
    if holds_objects:
        message += (
            f" It holds objects: name the key inside that holds the URL, such as "
            f"'{url_field}[].url'."
        )
    return message


def _documents(count: int) -> str:
    return "the document" if count == 1 else f"the {count} documents"


# --- Filters --------------------------------------------------------------------------------


def _check_filter(conditions: Mapping[str, Any]) -> None:
    for path, value in conditions.items():
        if isinstance(value, Mapping) and any(str(key).startswith("$") for key in value):
            raise InvalidInput(
                f"The filter on '{path}' uses an operator; only plain values are supported "
                '(such as {"city": "Madrid"}).'
            )


def _matches(document: Mapping[str, Any], path: str, wanted: Any) -> bool:
    values = field_values(document, path)
    if wanted is None and not values:
        return True
    equal = _cell_equals if isinstance(document, CsvRow) else _json_equals
    return any(
        equal(value, wanted)
        or (
            isinstance(value, list)
            and not isinstance(wanted, list)
            and any(equal(item, wanted) for item in value)
        )
        for value in values
    )


def _json_equals(found: Any, wanted: Any) -> bool:
    # Python's own == makes True equal 1 and 1.0; JSON keeps booleans apart from numbers.
    if isinstance(found, bool) or isinstance(wanted, bool):
        return found is wanted
    if isinstance(found, int | float) and isinstance(wanted, int | float):
        return found == wanted
    if isinstance(found, list) and isinstance(wanted, list):
        return len(found) == len(wanted) and all(map(_json_equals, found, wanted))
    if isinstance(found, Mapping) and isinstance(wanted, Mapping):
        return found.keys() == wanted.keys() and all(
            _json_equals(found[key], wanted[key]) for key in found
        )
    return type(found) is type(wanted) and bool(found == wanted)


def _cell_equals(cell: Any, wanted: Any) -> bool:
    if not isinstance(cell, str):
        return _json_equals(cell, wanted)
    text = cell.strip()
    if wanted is None:
        return not text
    if isinstance(wanted, bool):
        return text.lower() == ("true" if wanted else "false")
    if isinstance(wanted, int | float):
        try:
            return float(text) == wanted
        except ValueError:
            return False
    return isinstance(wanted, str) and text == wanted.strip()


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


# --- Storage keys ---------------------------------------------------------------------------


def key_segment(text: str) -> str:
    """`text` as one safe part of an object key or folder path.

    Letters and digits (any script, NFC-normalized), `.`, `_` and `-` stay; each run of anything
    else becomes one `_`. Leading dots become `_`, so the result is never `.`, `..` or hidden;
    empty text gives `_`. Past 100 bytes of UTF-8 the text is cut and ends with `-` and a hash of
    the whole text, so long ids that share a beginning stay apart. Two short texts that differ
    only in replaced characters (`a/b`, `a b`) give the same segment: `plan_documents` refuses
    such a pair.
    """
    normal = unicodedata.normalize("NFC", text.strip())
    safe = _UNSAFE.sub("_", normal)
    safe = _LEADING_DOTS.sub("_", safe) or "_"
    if len(safe.encode()) <= MAX_KEY_SEGMENT:
        return safe
    digest = hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LENGTH]
    room = MAX_KEY_SEGMENT - len(digest) - 1
    kept = safe.encode()[:room].decode(errors="ignore")  # never half a character
    return f"{kept}-{digest}"


_UNSAFE = re.compile(r"[^\w.-]+")
_LEADING_DOTS = re.compile(r"^\.+")


def document_folder(collection: str, document_id: str, field: str) -> str:
    """`{collection}/{document_id}-{field}/`, each part a `key_segment`.

    The field path loses its `[]` and a `*` reads `all`: `images[].url` gives `images.url` and
    `gallery.*.src` gives `gallery.all.src`.
    """
    readable_field = field.replace("[]", "").replace("*", "all")
    return f"{key_segment(collection)}/{key_segment(document_id)}-{key_segment(readable_field)}/"


def validate_collection_name(name: str) -> str:
    """The name without the spaces around it; it names the top folder of the import."""
    stripped = name.strip()
    if not stripped:
        raise InvalidInput("Give the collection a name.")
    if len(stripped) > MAX_COLLECTION_NAME:
        raise InvalidInput(
            f"A collection name has at most {MAX_COLLECTION_NAME} characters; this one has "
            f"{len(stripped)}."
        )
    return stripped
