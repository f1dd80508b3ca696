"""The shared HTTP session reads proxy settings from the environment once per host, with requests' meaning."""

from __future__ import annotations

import urllib.request
from typing import Any, cast

import pytest
import requests

from auditor.collect.session import _EnvironmentOnceSession


def test_environment_settings_match_requests_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,login.example")
    ours, plain = _EnvironmentOnceSession(), requests.Session()
    for url in ("https://management.example/a?x=1", "https://127.0.0.1:8443/b", "https://login.example/t"):
        for _ in range(2):  # the second answer comes from the cache
            assert ours.merge_environment_settings(url, {}, False, True, None) == plain.merge_environment_settings(
                url, {}, False, True, None
            )
    proxied = ours.merge_environment_settings("https://management.example/c", {}, False, True, None)
    assert proxied["proxies"]["https"] == "http://proxy.invalid:3128"
    # A caller changing the answer it got does not change the next one.
    proxied["proxies"]["https"] = "changed"
    again = ours.merge_environment_settings("https://management.example/d", {}, False, True, None)
    assert again["proxies"]["https"] == "http://proxy.invalid:3128"
    assert "https" not in ours.merge_environment_settings("https://127.0.0.1:8443/e", {}, False, True, None)["proxies"]


def test_call_settings_are_part_of_the_cache_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    session = _EnvironmentOnceSession()
    url = "https://management.example/a"
    assert session.merge_environment_settings(url, {}, False, "/ca.pem", None)["verify"] == "/ca.pem"
    assert session.merge_environment_settings(url, {}, True, True, None) == {
        "proxies": session.merge_environment_settings(url, {}, True, True, None)["proxies"],
        "stream": True,
        "verify": True,
        "cert": None,
    }


def _prepared_both_ways(method: str, url: str, headers: dict[str, str | None], data: bytes | None) -> tuple[Any, Any]:
    ours, plain = _EnvironmentOnceSession(), requests.Session()
    for session in (ours, plain):
        session.hooks["response"].append(lambda response, *args, **kwargs: None)
    built = []
    for session in (ours, plain):
        # requests takes None to mean "drop the session's header", as the Azure transport may send.
        request = requests.Request(method=method, url=url, headers=cast(Any, headers), data=data or {}, hooks={})
        built.append(session.prepare_request(request))
    return built[0], built[1]


@pytest.mark.parametrize(
    ("method", "url", "headers", "data"),
    [
        ("GET", "https://management.example/subscriptions/s/providers/x?api-version=2024-01-01&$top=5", {}, None),
        (
            "POST",
            "https://management.example/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01",
            {"Content-Type": "application/json", "Authorization": "Bearer t", "Accept-Encoding": None},
            b'{"query": "resources"}',
        ),
        ("GET", "https://graph.example/v1.0/groups/a%2Fb/transitiveMembers?$top=9", {"User-Agent": "auditor"}, None),
    ],
)
def test_a_request_is_prepared_as_requests_prepares_it(
    method: str, url: str, headers: dict[str, str | None], data: bytes | None
) -> None:
    ours, plain = _prepared_both_ways(method, url, headers, data)
    assert (ours.method, ours.url, ours.body) == (plain.method, plain.url, plain.body)
    assert dict(ours.headers) == dict(plain.headers)
    assert len(ours.hooks["response"]) == len(plain.hooks["response"]) == 1


def test_cookies_a_response_sets_are_never_kept() -> None:
    session = _EnvironmentOnceSession()
    cookie = requests.cookies.create_cookie("ARRAffinity", "x", domain="management.example")
    assert not session.cookies.get_policy().set_ok(cookie, urllib.request.Request("https://management.example/a"))
    prepared = session.prepare_request(requests.Request("GET", "https://management.example/a"))
    assert "Cookie" not in prepared.headers
