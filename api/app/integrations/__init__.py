"""`/reaction <words>` in stock Slack, Mattermost and Discord (docs/chat-apps.md)."""
