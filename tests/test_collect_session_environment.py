"""The shared HTTP session reads proxy settings from the environment once per host, with requests' meaning."""

from __future__ import annotations

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
