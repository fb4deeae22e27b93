"""Every server family's "the prompt does not fit" answer is recognised as ContextOverflow, with its numbers.

Each body below is the shape the server sends, copied from its own source or documentation (cited beside it),
served over real HTTP by the fake server and read through the real SDK, so the SDK's own unwrapping of error
bodies is part of what is tested.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fake_llm_server import FakeLLMServer, error_event, status
from tests.providers.helpers import collect, request
from tunacode_tui.providers.anthropic_messages import AnthropicProvider
from tunacode_tui.providers.errors import BadRequest, ContextOverflow, ProviderError
from tunacode_tui.providers.openai_chat import OpenAIChatProvider

# (name, HTTP status, body, window the server stated, prompt tokens it stated)
SHAPES: list[tuple[str, int, Any, int | None, int | None]] = [
    # OpenAI API reference, "Error codes" / openai-python tests: code context_length_exceeded.
    ("openai", 400, {"error": {
        "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in "
                   "130532 tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}, 128000, 130532),
    # OpenRouter (API docs, "Errors"; message as its gateway words it): numeric code, metadata.
    ("openrouter", 400, {"error": {
        "message": "This endpoint's maximum context length is 32768 tokens. However, you requested about 37623 "
                   "tokens (21239 of text input, 16384 in the output). Please reduce the length of either one, or "
                   "use the \"middle-out\" transform to compress your prompt automatically.",
        "code": 400, "metadata": {"provider_name": None}}}, 32768, None),
    # llama.cpp tools/server/server-context.cpp (send_error, "request (%d tokens) exceeds the available context
    # size (%d tokens), try increasing it", ERROR_TYPE_EXCEED_CONTEXT_SIZE) + server-task.cpp
    # server_task_result_error::to_json (adds n_prompt_tokens, n_ctx) + server-common.cpp format_error_response.
    ("llama.cpp", 400, {"error": {
        "code": 400, "message": "request (5121 tokens) exceeds the available context size (4096 tokens), try "
                                "increasing it",
        "type": "exceed_context_size_error", "n_prompt_tokens": 5121, "n_ctx": 4096}}, 4096, 5121),
    # llama.cpp, same file, context shift disabled: "input (%d tokens) is larger than the max context size".
    ("llama.cpp no shift", 400, {"error": {
        "code": 400, "message": "input (9000 tokens) is larger than the max context size (8192 tokens). skipping",
        "type": "exceed_context_size_error", "n_prompt_tokens": 9000, "n_ctx": 8192}}, 8192, 9000),
    # vLLM vllm/entrypoints/openai/serving_engine.py, OpenAIServing._validate_input (VLLMValidationError →
    # ErrorResponse {"error": {message, type "BadRequestError", param, code 400}}).
    ("vllm", 400, {"error": {
        "message": "This model's maximum context length is 16384 tokens. However, your request has 17001 input "
                   "tokens. Please reduce the length of the input messages.",
        "type": "BadRequestError", "param": "input_tokens", "code": 400}}, 16384, 17001),
    # vLLM before the nested "error" object (v0.6-v0.8): a top-level ErrorResponse.
    ("vllm old", 400, {"object": "error", "message":
        "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the "
        "messages, 1000 in the completion). Please reduce the length of the messages or completion.",
        "type": "BadRequestError", "param": None, "code": 400}, 4096, None),
    # SGLang python/sglang/srt/managers/tokenizer_manager.py, _validate_one_request (ValueError → OpenAI-style
    # ErrorResponse from serving_base.create_error_response).
    ("sglang", 400, {"object": "error", "message":
        "The input (40000 tokens) is longer than the model's context length (32768 tokens).",
        "type": "BadRequest", "param": None, "code": 400}, 32768, 40000),
    # Ollama runner/ollamarunner/runner.go, errorInputTooLong, through its OpenAI layer (openai/openai.go
    # NewError: {"error": {"message", "type", "param", "code"}}).
    ("ollama", 400, {"error": {"message": "the input length exceeds the context length",
                               "type": "invalid_request_error", "param": None, "code": None}}, None, None),
    # LM Studio (closed source; the message as its server returns it, lmstudio-ai/lmstudio-bug-tracker#237, #546).
    ("lm studio", 400, {"error": "Trying to keep the first 10136 tokens when context the overflows. However, the "
                                 "model is loaded with context length of only 7866 tokens, which is not enough. Try "
                                 "to load the model with a larger context length, or provide a shorter input"},
     7866, 10136),
    # TGI router/src/validation.rs, ValidationError::MaxTotalTokens, served as 422 {"error", "error_type"}.
    ("tgi", 422, {"error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 3900 "
                           "`inputs` tokens and 1024 `max_new_tokens`", "error_type": "validation"}, 4096, 3900),
    # TGI, same file, ValidationError::InputLength.
    ("tgi input", 422, {"error": "Input validation error: `inputs` must have less than 4095 tokens. Given: 5000",
                        "error_type": "validation"}, 4095, 5000),
    # A proxy that only says 413.
    ("413", 413, {"error": {"message": "Request Entity Too Large"}}, None, None),
]


async def openai_failure(server: FakeLLMServer, provider: str = "openai-compatible") -> ProviderError:
    adapter = OpenAIChatProvider(api_key="sk-local", base_url=server.openai_base_url, provider=provider, timeout=5.0)
    try:
        with pytest.raises(ProviderError) as info:
            await collect(adapter.stream(request(model="local")))
    finally:
        await adapter.aclose()
    return info.value


async def anthropic_failure(server: FakeLLMServer) -> ProviderError:
    adapter = AnthropicProvider(api_key="sk-local", base_url=server.anthropic_base_url, timeout=5.0)
    try:
        with pytest.raises(ProviderError) as info:
            await collect(adapter.stream(request(model="local")))
    finally:
        await adapter.aclose()
    return info.value


@pytest.mark.parametrize(("name", "code", "body", "window", "prompt"), SHAPES, ids=[s[0] for s in SHAPES])
async def test_overflow_shape_on_the_openai_wire(llm_server: FakeLLMServer, name: str, code: int, body: Any,
                                                 window: int | None, prompt: int | None) -> None:
    llm_server.add(status(code, body=body))
    err = await openai_failure(llm_server)
    assert isinstance(err, ContextOverflow), f"{name}: {type(err).__name__}: {err}"
    assert (err.window, err.prompt_tokens) == (window, prompt)
    assert "/compact" in str(err)


# Anthropic API docs, "Errors": 400 invalid_request_error "prompt is too long: N tokens > M maximum".
ANTHROPIC_SHAPES: list[tuple[str, Any, int | None, int | None]] = [
    ("anthropic", {"type": "error", "error": {"type": "invalid_request_error",
                                              "message": "prompt is too long: 208310 tokens > 200000 maximum"}},
     200000, 208310),
    ("anthropic input+max_tokens", {"type": "error", "error": {
        "type": "invalid_request_error", "message": "input length and `max_tokens` exceed context limit: 197626 + "
                                                    "8192 > 200000, decrease input length or `max_tokens` and try "
                                                    "again"}}, None, None),
    # llama.cpp's /v1/messages answers with the same error object as its OpenAI routes (server-http.cpp wraps
    # format_error_response in {"error": ...}).
    ("llama.cpp /v1/messages", {"error": {
        "code": 400, "message": "request (5121 tokens) exceeds the available context size (4096 tokens), try "
                                "increasing it",
        "type": "exceed_context_size_error", "n_prompt_tokens": 5121, "n_ctx": 4096}}, 4096, 5121),
]


@pytest.mark.parametrize(("name", "body", "window", "prompt"), ANTHROPIC_SHAPES, ids=[s[0] for s in ANTHROPIC_SHAPES])
async def test_overflow_shape_on_the_anthropic_wire(llm_server: FakeLLMServer, name: str, body: Any,
                                                    window: int | None, prompt: int | None) -> None:
    llm_server.add(status(400, body=body))
    err = await anthropic_failure(llm_server)
    assert isinstance(err, ContextOverflow), f"{name}: {type(err).__name__}: {err}"
    assert (err.window, err.prompt_tokens) == (window, prompt)


async def test_overflow_reported_inside_a_200_stream(llm_server: FakeLLMServer) -> None:
    # OpenRouter reports upstream failures as an error chunk inside the stream.
    llm_server.add(error_event(0, message="This endpoint's maximum context length is 8192 tokens. However, you "
                                          "requested about 9000 tokens", kind="400"))
    err = await openai_failure(llm_server, provider="openrouter")
    assert isinstance(err, ContextOverflow) and err.window == 8192


async def test_an_ordinary_bad_request_is_not_an_overflow(llm_server: FakeLLMServer) -> None:
    llm_server.add(status(400, body={"error": {"message": "Invalid schema for function 'read_file'",
                                               "type": "invalid_request_error", "code": None}}))
    err = await openai_failure(llm_server)
    assert isinstance(err, BadRequest) and not isinstance(err, ContextOverflow)


async def test_errors_name_the_endpoint_not_the_vendor(llm_server: FakeLLMServer) -> None:
    # The "openai" provider pointed at a local server: the message names that server, not OpenAI.
    llm_server.add(status(400, body={"error": {"message": "bad grammar", "type": "invalid_request_error"}}))
    err = await openai_failure(llm_server, provider="openai")
    assert str(err).startswith(f"The server at {llm_server.openai_base_url} rejected the request (400).")
    assert "OpenAI" not in str(err)
