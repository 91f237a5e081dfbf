"""Small forms (login, logout, edit, delete), read with a size cap.

Starlette's `request.form()` has no size limit for urlencoded bodies, and the
login form is open to anyone: read at most MAX_FORM_BYTES, then parse. An empty
body is an empty form (so a POST without a token gets its 403, not a 415).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request

from app.errors import TooLarge, Unprocessable, UnsupportedMedia

# The longest legitimate form is an edit: 20,000 characters of recognised text,
# up to 9 bytes each once UTF-8 and percent-encoded.
MAX_FORM_BYTES = 256 * 1024
MAX_FORM_FIELDS = 50


class Form:
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def get(self, name: str, default: str = "") -> str:
        values = self.getlist(name)
        return values[-1] if values else default

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]

    def __contains__(self, name: str) -> bool:
        return any(key == name for key, _ in self._pairs)


async def read_form(request: Request) -> Form:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        return await _read_multipart(request)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_FORM_BYTES:
            raise TooLarge("The form is too large.")
    if not body:
        return Form([])
    if content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMedia("Send this form as application/x-www-form-urlencoded.")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise Unprocessable("The form could not be read.") from None
    return Form(pairs)


async def _read_multipart(request: Request) -> Form:
    """Scripts may post these forms as multipart: text fields only, each one bounded."""
    try:
        form = await request.form(
            max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_BYTES
        )
    except HTTPException as exc:
        raise Unprocessable(f"The form could not be read: {exc.detail}") from None
    return Form([(key, value) for key, value in form.multi_items() if isinstance(value, str)])
