"""The fake server's own contract, checked with plain urllib: framing, key check, running out of script."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.fake_llm_server import FakeLLMServer, text, tool_call


def post(url: str, body: dict[str, Any], key: str = "k") -> tuple[int, str]:
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json",
                                                          "authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_openai_sse_framing(llm_server: FakeLLMServer) -> None:
    llm_server.add(text("hi"), tool_call("f", {"a": 1}, id="c"))
    code, raw = post(f"{llm_server.openai_base_url}/chat/completions",
                     {"model": "m", "stream": True, "stream_options": {"include_usage": True}})
    assert code == 200
    frames = [f for f in raw.split("\n\n") if f]
    assert all(f.startswith("data: ") for f in frames)
    assert frames[-1] == "data: [DONE]"
    chunks = [json.loads(f[6:]) for f in frames[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 10
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_anthropic_sse_framing(llm_server: FakeLLMServer) -> None:
    llm_server.add(text("hi"))
    code, raw = post(f"{llm_server.anthropic_base_url}/v1/messages", {"model": "m", "stream": True})
    assert code == 200
    events = [f.split("\n")[0].removeprefix("event: ") for f in raw.split("\n\n") if f]
    assert events == ["message_start", "ping", "content_block_start", "content_block_delta",
                      "content_block_stop", "message_delta", "message_stop"]


def test_expected_key_and_exhausted_script() -> None:
    with FakeLLMServer(expected_api_key="right") as server:
        server.add(text("only one"))
        assert post(f"{server.openai_base_url}/chat/completions", {"model": "m"}, key="wrong")[0] == 401
        assert post(f"{server.openai_base_url}/chat/completions", {"model": "m"}, key="right")[0] == 200
        code, body = post(f"{server.openai_base_url}/chat/completions", {"model": "m"}, key="right")
        assert code == 400 and "no scripted reply left" in body
        assert len(server.wait_for_requests(3, timeout=1)) == 3
        with pytest.raises(TimeoutError):
            server.wait_for_requests(4, timeout=0.05)
