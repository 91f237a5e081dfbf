"""/metrics: Prometheus text that moves with the traffic, labelled by route template."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.integration.helpers import (
    State,
    create_image,
    metric_sample,
    png_bytes,
    scrape_metrics,
    upload,
)


async def test_request_counts_and_latency_by_route_template(client: httpx.AsyncClient) -> None:
    route = "/api/v1/images/{image_id}"
    before = await scrape_metrics(client)
    for image_id in ("AAAAAAAAAA", "BBBBBBBBBB"):
        assert (await client.get(f"/api/v1/images/{image_id}")).status_code == 404
    assert (await client.get("/healthz")).status_code == 200
    after = await scrape_metrics(client)

    counted = "reactbin_http_requests_total"
    assert metric_sample(after, counted, method="GET", route=route, status="404") == (
        metric_sample(before, counted, method="GET", route=route, status="404") + 2
    )
    assert metric_sample(after, counted, method="GET", route="/healthz", status="200") >= 1
    observed = "reactbin_http_request_duration_seconds_count"
    assert metric_sample(after, observed, method="GET", route=route) >= 2
    assert 'le="0.1"' in after
    # The ids never become labels: one series per route, whatever the traffic.
    assert "AAAAAAAAAA" not in after
    assert "BBBBBBBBBB" not in after


async def test_unmatched_paths_share_one_label(client: httpx.AsyncClient) -> None:
    for path in ("/no/such/page-1", "/no/such/page-2", "/wp-admin.php"):
        assert (await client.get(path)).status_code == 404
    body = await scrape_metrics(client)
    assert "page-1" not in body
    assert "wp-admin" not in body
    labels = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert metric_sample(body, "reactbin_http_requests_total", **labels) >= 3


async def test_uploads_and_refusals_by_reason(
    authed_client: httpx.AsyncClient, client: httpx.AsyncClient, state: State
) -> None:
    before = await scrape_metrics(client)
    data = png_bytes(7001)
    await create_image(authed_client, data)
    assert (await upload(authed_client, data)).status_code == 409
    assert (
        await upload(authed_client, b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    ).status_code == 415
    assert (await upload(client, png_bytes(7002))).status_code == 401
    after = await scrape_metrics(client)

    def moved(name: str, **labels: str) -> float:
        return metric_sample(after, name, **labels) - metric_sample(before, name, **labels)

    assert moved("reactbin_uploads_total", via="api") == 1
    assert moved("reactbin_upload_refusals_total", reason="duplicate") == 1
    assert moved("reactbin_upload_refusals_total", reason="unsupported_type") == 1
    assert moved("reactbin_upload_refusals_total", reason="unauthorized") == 1


async def test_job_queue_depth_is_read_at_scrape_time(
    authed_client: httpx.AsyncClient, client: httpx.AsyncClient, state: State
) -> None:
    body = await scrape_metrics(client)
    for status in ("todo", "doing", "failed"):
        assert f'reactbin_job_queue_jobs{{status="{status}"}}' in body
    assert metric_sample(body, "reactbin_job_queue_jobs", status="todo") == 0
    # No worker runs in these tests (DATABASE_URL is set): uploads leave jobs to do.
    await create_image(authed_client)
    await create_image(authed_client)
    queued = await state.row_count("procrastinate_jobs")
    assert queued >= 2
    body = await scrape_metrics(client)
    assert metric_sample(body, "reactbin_job_queue_jobs", status="todo") == queued


async def test_database_errors_are_counted(app: Any, client: httpx.AsyncClient) -> None:
    before = metric_sample(
        await scrape_metrics(client), "reactbin_database_errors_total", kind="query"
    )
    async with app.state.engine.connect() as connection:
        with pytest.raises(DBAPIError):
            await connection.execute(text("SELECT 1 / 0"))
    after = metric_sample(
        await scrape_metrics(client), "reactbin_database_errors_total", kind="query"
    )
    assert after == before + 1


async def test_metrics_token_protects_the_endpoint(make_app: Callable[..., Any]) -> None:
    async for app in make_app(metrics_token=SecretStr("scrape-me-0123456789")):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            refused = await http.get("/metrics")
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == "Bearer"
            assert "reactbin_" not in refused.text
            wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            allowed = await http.get(
                "/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"}
            )
            assert allowed.status_code == 200
            assert "reactbin_http_requests_total" in allowed.text
