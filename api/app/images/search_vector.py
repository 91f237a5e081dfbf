"""The expression of the generated search document, used by the model so that
`alembic check` compares it. The functions and triggers around it (the
immutable unaccent wrapper, the vocabulary for typo tolerance, tag counts)
live in migration 0003."""


def _field(column: str, weight: str) -> str:
    # 'english' gives word forms (dancing -> danc); 'simple' keeps every word as
    # typed, for prefixes ("shru" -> "shrug") and words English stems oddly.
    text = f"reactbin_unaccent(coalesce({column}, ''))"
    return (
        f"setweight(to_tsvector('english'::regconfig, {text}) || "
        f"to_tsvector('simple'::regconfig, {text}), '{weight}')"
    )


# Tags and title rank above recognised text, which ranks above the description.
SEARCH_VECTOR = " || ".join(
    [
        _field("title", "A"),
        _field("tags_text", "A"),
        _field("ocr_text", "B"),
        _field("description", "C"),
    ]
)
