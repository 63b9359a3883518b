"""A generation's parameters as a table: plain names, short values, nothing read as Markdown."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ui.parameters import MAX_VALUE_CHARS, parameter_rows
from ui.text import escape_markdown

PROMPT = "![x](https://evil.example/p.png) **bold**"


def test_names_and_simple_values_read_as_plain_words() -> None:
    rows = parameter_rows(
        {
            "seed": 12,
            "sourceUrl": "https://example.com/a.jpg",
            "temperature": 0.7,
            "slow": False,
            "style": None,
            "system": "",
            "tags": ["fox", "snow", 3],
        }
    )

    assert rows == [
        ("Seed", "12"),
        ("Source url", "https://example.com/a.jpg"),
        ("Temperature", "0.7"),
        ("Slow", "no"),
        ("Style", "–"),
        ("System", "–"),
        ("Tags", "fox, snow, 3"),
    ]


def test_long_values_are_shortened_and_only_nested_ones_keep_their_json() -> None:
    rows = dict(
        parameter_rows(
            {
                "prompt": "a fox\nin the snow " + "very " * 100,
                "reference": {"id": "1f2e", "key": "requests/x/image.png"},
            }
        )
    )

    assert rows["Prompt"].startswith("a fox in the snow very")
    assert len(rows["Prompt"]) == MAX_VALUE_CHARS and rows["Prompt"].endswith("…")
    assert rows["Reference"] == '{"id": "1f2e", "key": "requests/x/image.png"}'


def test_the_table_shows_text_as_written() -> None:
    def page() -> None:
        # AppTest runs this function's source on its own: imports and values are spelt here.
        from ui.parameters import show_parameters

        show_parameters({"prompt": "![x](https://evil.example/p.png) **bold**", "seed": 1})
        show_parameters({})

    at = AppTest.from_function(page).run()

    (table,) = at.table
    assert list(table.value.columns) == ["Parameter", "Value"]
    assert list(table.value["Parameter"]) == ["Prompt", "Seed"]
    assert table.value["Value"][0] == escape_markdown(PROMPT)
