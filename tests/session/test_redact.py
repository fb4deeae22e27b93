"""Secret masking: known values and key shapes go, ordinary prose stays."""

from __future__ import annotations

from tunacode_tui.session.redact import mask_data, mask_secrets


def test_known_secrets_and_key_shapes_are_masked() -> None:
    text = (
        "a sk-ant-api03-AbC123dEf456GhI789 b sk-proj-ZYX987wvu654TSR321qpo c Bearer abc.DEF-123_456xyz= d s3cr3t-value"
    )
    assert mask_secrets(text, ["s3cr3t-value"]) == (
        "a sk-ant-…(redacted) b sk-…(redacted) c Bearer …(redacted) d …(redacted)"
    )


def test_prose_and_short_values_are_left_alone() -> None:
    text = "task-management-system-refactor, sk-learn-style pipelines, Bearer authentication, a key of 'x'"
    assert mask_secrets(text, ["x", ""]) == text


def test_mask_data_reaches_nested_strings_and_keys() -> None:
    data = {"env": {"KEY": "topsecret42"}, "list": ["topsecret42!", 3, None], "topsecret42": True}
    assert mask_data(data, ["topsecret42"]) == {
        "env": {"KEY": "…(redacted)"}, "list": ["…(redacted)!", 3, None], "…(redacted)": True
    }
