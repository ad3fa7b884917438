"""A PasteDeploy .ini (Pyramid's, Pylons'): `pserve` serves it on the port its [server:main]
names, the production .ini before the development one; a loopback one asks."""

from pathlib import Path

from kubestep import decide
from kubestep.inventory import collect
from tests.legacy_repo import write_tree

APP = "[app:main]\nuse = egg:trivia\npyramid.reload_templates = {reload}\n\n"


def ini(server: str, reload: str = "false") -> str:
    return APP.format(reload=reload) + "[server:main]\nuse = egg:waitress#main\n" + server


def test_pserve_serves_the_production_ini_on_its_port(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "setup.py": "from setuptools import setup\nsetup(name='trivia')\n",
            "development.ini": ini("listen = localhost:6543\n", reload="true"),
            "production.ini": ini("listen = *:6543\n"),
            "alembic.ini": "[alembic]\nscript_location = trivia/alembic\n",
        },
    )
    inventory = collect(tmp_path).to_dict()
    found = {c["source"]: (c["command"], c["role"], c["port"], c["loopback"])
             for c in inventory["start_candidates"]}  # fmt: skip
    assert found == {
        "development.ini:5": ("pserve development.ini", "dev", 6543, True),
        "production.ini:5": ("pserve production.ini", "web", 6543, False),
    }
    choice = decide.start_command(inventory, {})
    assert isinstance(choice, decide.Choice)
    assert choice.value == "pserve production.ini"
    assert decide.container_argv(choice.candidate) == ["pserve", "production.ini"]
    port = decide.port(inventory, choice.candidate, {})
    assert isinstance(port, decide.Choice) and port.value == 6543


def test_a_loopback_server_section_asks_how_to_serve_it(tmp_path: Path) -> None:
    write_tree(tmp_path, {"production.ini": ini("host = 127.0.0.1\nport = 6543\n")})
    unsure = decide.start_command(collect(tmp_path).to_dict(), {})
    assert isinstance(unsure, decide.Unsure)
    assert "pserve serves production.ini on the loopback interface" in unsure.message()
    assert "gunicorn --paste production.ini --bind 0.0.0.0:$PORT" in unsure.message()
