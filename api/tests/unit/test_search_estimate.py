"""The planner question that picks a one-word search's statement (app/search/tiered.py)."""

from __future__ import annotations

from app.search.tiered import _estimate_query


def test_the_estimate_asks_for_each_form_once_without_weights() -> None:
    texts = [
        "'reliabl':A | 'reliable':A",
        "'reliabl':B | 'reliable':B",
        "'reliabl':C | 'reliable':C",
        "'reliable':*A",
        "'reliable':*B",
        "'reliable':*C",
    ]
    assert _estimate_query(texts) == "( 'reliabl' | 'reliable' ) | ( 'reliable':* )"


def test_a_prefix_only_word_and_a_quoted_lexeme_keep_their_shape() -> None:
    assert _estimate_query(["", "", "", "'hap':*A", "'hap':*B", "'hap':*C"]) == "( 'hap':* )"
    assert _estimate_query(["'it''s':A", "'it''s':B", "'it''s':C", "", "", ""]) == "( 'it''s' )"
