"""Permission rules: a bash prefix rule allows its command with any arguments and nothing chained to it."""

from __future__ import annotations

import pytest

from tunacode_tui.core.permission_rules import RuleError, allowed, parse_rule, suggest_rule

GIT_STATUS = ["bash(git status:*)"]


def bash(command: str) -> dict[str, str]:
    return {"command": command}


@pytest.mark.parametrize("command", ["git status", "git status -s", "  git   status  --short ", "git status 'a b'"])
def test_a_prefix_rule_allows_its_command_with_arguments(command: str) -> None:
    assert allowed(GIT_STATUS, "bash", bash(command))


@pytest.mark.parametrize("command", [
    "git status; rm -rf x", "git status && rm -rf x", "git status || rm -rf x", "git status | sh",
    "git status & rm -rf x", "git status $(rm -rf x)", "git status `rm -rf x`", "git status > ~/.bashrc",
    "git status\nrm -rf x", "git status\rrm -rf x", "git status ${IFS}", "git status <(rm x)", "git statusx",
    "git stat", "git", "git push", "sudo git status", "FOO=1 git status", "git status 'unclosed", "",
    "git status \\; rm x",
])
def test_a_prefix_rule_refuses_compound_and_other_commands(command: str) -> None:
    assert not allowed(GIT_STATUS, "bash", bash(command))


def test_exact_and_tool_rules() -> None:
    assert allowed(["bash(npm test)"], "bash", bash("npm test"))
    assert not allowed(["bash(npm test)"], "bash", bash("npm test --watch"))
    assert allowed(["write_file"], "write_file", {"file_path": "a.py"})
    assert not allowed(["write_file"], "bash", bash("ls"))
    assert not allowed(["bash(git status:*)"], "write_file", {"file_path": "a.py"})
    assert not allowed(["bash(git status:*)"], "bash", {"command": 3})
    assert allowed(["bash"], "bash", bash("anything; at all"))  # the whole tool, as before


@pytest.mark.parametrize("text", ["bash(git status; rm:*)", "bash()", "write_file(x)", "bash(a && b)", "(x)", ""])
def test_unreadable_rules_are_errors_and_allow_nothing(text: str) -> None:
    with pytest.raises(RuleError):
        parse_rule(text)
    assert not allowed([text], "bash", bash("git status"))


def test_rules_print_in_their_canonical_form() -> None:
    assert str(parse_rule(" bash( git  status :*) ")) == "bash(git status:*)"
    assert str(parse_rule("update_file")) == "update_file"
    assert str(parse_rule("Bash(git diff:*)")) == "bash(git diff:*)"  # Claude Code's spelling


@pytest.mark.parametrize(("command", "rule"), [
    ("git status -s", "bash(git status:*)"), ("npm test", "bash(npm test:*)"), ("ls -la", "bash(ls -la)"),
    ("pytest tests/ui", "bash(pytest tests/ui)"), ("git -c a=b status", "bash(git -c a=b status)"),
    ("make", "bash(make)"), ("git log; rm x", None), ("echo $HOME", None),
    ("env git status", "bash(env git status)"), ("sudo rm -rf build", "bash(sudo rm -rf build)"),
    ("FOO=1 npm test", "bash(FOO=1 npm test)"), ("/usr/bin/sudo make install", "bash(/usr/bin/sudo make install)"),
    ("timeout 5 sleep 1", "bash(timeout 5 sleep 1)"), ("xargs rm", "bash(xargs rm)"),
    ("git log --output=x", "bash(git log --output=x)"),
])
def test_the_dialog_suggests_a_safe_prefix(command: str, rule: str | None) -> None:
    assert suggest_rule("bash", bash(command)) == rule
    if rule is not None:
        assert allowed([rule], "bash", bash(command))
    assert suggest_rule("write_file", {}) == "write_file"


@pytest.mark.parametrize("command", [
    "git log --output=/etc/x", "git log -p --output /tmp/x", "git log --output-directory d",
])
def test_a_prefix_rule_does_not_stretch_to_an_output_file_option(command: str) -> None:
    assert not allowed(["bash(git log:*)"], "bash", bash(command))
    assert allowed(["bash(git log:*)"], "bash", bash("git log --oneline -5"))
