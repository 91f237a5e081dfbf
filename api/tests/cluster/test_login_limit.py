"""The failed-login limit (10 a minute per client address) holds across processes:
the proxy spreads the guesses over both, the count is in PostgreSQL. The address is
the one the proxy saw; an X-Forwarded-For a client makes up does not change it."""

from __future__ import annotations

import re

import httpx

from tests.cluster.conftest import direct, rig

LIMIT = 10


def client_through_proxy(cluster: rig.Cluster, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=cluster.url, transport=transport, timeout=30)


async def guess(http: httpx.AsyncClient, **headers: str) -> int:
    form = {"username": "owner", "password": "not the password"}
    response = await http.post("/api/v1/auth/token", data=form, headers=headers)
    return response.status_code


def upstreams_that_answered(cluster: rig.Cluster, address: str) -> set[str]:
    log = (cluster.proxy.dir / "access.log").read_text()
    pattern = rf"^{re.escape(address)} \"POST /api/v1/auth/token .* upstream=(\S+)"
    return set(re.findall(pattern, log, re.MULTILINE))


async def test_more_than_ten_failures_are_refused_whichever_process_answers(
    cluster: rig.Cluster,
) -> None:
    user, password = cluster.owner
    async with client_through_proxy(cluster, "127.0.0.3") as guesser:
        # A different made-up X-Forwarded-For each time: the proxy appends the real one.
        statuses = [await guess(guesser, **{"X-Forwarded-For": f"10.0.0.{n}"}) for n in range(15)]
        assert statuses[:LIMIT] == [401] * LIMIT
        assert statuses[LIMIT:] == [429] * 5
        right = await guesser.post(
            "/api/v1/auth/token", data={"username": user, "password": password}
        )
        assert right.status_code == 429
        assert 1 <= int(right.headers["retry-after"]) <= 60
    ports = {f"127.0.0.1:{api.port}" for api in cluster.apis}
    assert upstreams_that_answered(cluster, "127.0.0.3") == ports

    async with client_through_proxy(cluster, "127.0.0.4") as someone_else:
        ok = await someone_else.post(
            "/api/v1/auth/token", data={"username": user, "password": password}
        )
        assert ok.status_code == 200


async def test_successful_logins_do_not_count_as_failures(cluster: rig.Cluster) -> None:
    user, password = cluster.owner
    async with client_through_proxy(cluster, "127.0.0.5") as owner:
        for _ in range(LIMIT + 2):
            response = await owner.post(
                "/api/v1/auth/token", data={"username": user, "password": password}
            )
            assert response.status_code == 200
        assert [await guess(owner) for _ in range(LIMIT)] == [401] * LIMIT


async def test_an_api_process_trusts_x_forwarded_for_only_from_the_proxy(
    cluster: rig.Cluster,
) -> None:
    """Straight to an API process (not through nginx), a made-up header is ignored:
    the failures count against the real address, so the eleventh is refused."""
    first, second = cluster.apis
    statuses = []
    for n in range(LIMIT + 1):
        api = (first, second)[n % 2]
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.6")
        async with direct(api, transport=transport) as http:
            statuses.append(await guess(http, **{"X-Forwarded-For": f"10.1.0.{n}"}))
    assert statuses == [401] * LIMIT + [429]
