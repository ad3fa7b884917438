"""System packages of the old boxes, as bookworm names them."""

from kubestep.system_packages import split_packages


def package(name: str, manager: str = "apt") -> dict[str, str]:
    return {"name": name, "source": "puppet/init.pp:3", "manager": manager}


def test_old_names_are_bookworms_and_headers_go_to_the_build_stage() -> None:
    runtime, build, notes = split_packages(
        [package("netcat"), package("libjpeg62-dev"), package("libpq5"), package("nginx")]
    )
    assert runtime == ["libpq5", "netcat-openbsd"]
    assert build == ["libjpeg62-turbo-dev"]
    assert "netcat (puppet/init.pp:3) is netcat-openbsd on bookworm" in notes
    assert any(note.startswith("left out what the old boxes ran") for note in notes)


def test_python_2_modules_are_left_out_with_why() -> None:
    runtime, build, notes = split_packages(
        [package("python-mysqldb"), package("python-is-python3"), package("python3-lxml")]
    )
    assert runtime == ["python-is-python3", "python3-lxml"] and build == []
    assert notes == [
        "left out python-mysqldb (puppet/init.pp:3): a Python 2 package, gone from bookworm; "
        "the image installs the app's Python dependencies with pip"
    ]
