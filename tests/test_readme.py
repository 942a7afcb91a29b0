"""README promises: the fresh-machine commands exist, CI runs the test one verbatim, the sample ships."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _fresh_machine_commands():
    section = README.split("## Two commands for a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def test_exactly_two_fresh_machine_commands():
    commands = _fresh_machine_commands()
    assert len(commands) == 2
    assert all(c.startswith("python3 -m venv .venv && ") for c in commands)
    assert "newsflow process pipeline/samples/" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _fresh_machine_commands()[1] in ci.splitlines()


def test_the_sample_named_in_readme_ships_with_the_package():
    path = re.search(r"newsflow process (pipeline/samples/\S+)", _fresh_machine_commands()[0]).group(1)
    assert (ROOT / path).is_file()
