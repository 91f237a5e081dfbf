"""The answers' shapes, as the chat apps document them (for /openapi.json)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Problem(BaseModel):
    detail: str


class SlackMessage(BaseModel):
    """Slack's slash-command response (Block Kit)."""

    response_type: Literal["ephemeral", "in_channel"]
    text: str
    blocks: list[dict[str, Any]] | None = None


class MattermostCommandResponse(BaseModel):
    """Mattermost's slash-command response; the preview's buttons are in `attachments`."""

    response_type: Literal["ephemeral", "in_channel"]
    text: str
    attachments: list[dict[str, Any]] | None = None
    props: dict[str, Any] | None = None


class MattermostUpdate(BaseModel):
    message: str
    props: dict[str, Any]


class MattermostActionResponse(BaseModel):
    """Mattermost's integration-action response: the preview post, updated."""

    update: MattermostUpdate


class DiscordResponse(BaseModel):
    """Discord's interaction response: 1 PONG, 4 message, 7 update, 8 autocomplete."""

    type: Literal[1, 4, 7, 8]
    data: dict[str, Any] | None = Field(default=None)


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    said = {
        400: "The body is malformed (not the documented form or JSON)",
        401: "Unsigned, wrongly signed, stale or wrong token: nothing done",
        404: "This integration is off (its secret is not set)",
        409: "A request already handled, played again: nothing done",
        413: "The body is larger than 64 KB",
        429: "Too many requests from this workspace this minute",
        502: "The chat app could not be reached to post the answer",
    }
    return {status: {"model": Problem, "description": said[status]} for status in statuses}
