"""`inv new`: a new service from kubestep's template, its answers checked before copier runs."""

from pathlib import Path

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from kubestep.errors import KubestepError
from kubestep.generate import new_service
from kubestep.questions import check_answer, check_answers, parse_settings
from kubestep.tasks.errors import one_line_errors


@task(
    iterable=["set_"],
    help={
        "name": "the service's name, a DNS label (e.g. orders)",
        "dest": "the directory to create (default: ./NAME); it must be new or empty",
        "set_": "an answer to a copier question, key=value (repeatable: --set port=8080)",
    },
)
@one_line_errors
def new(c: Context, name: str, dest: str = "", set_: list[str] | None = None) -> None:
    """Create a new service: every answer is validated first, a bad one is one line.

    :param name: the service name
    :param dest: where to create it
    :param set_: more answers, key=value
    """
    answers = check_answers(parse_settings(set_ or []))
    answers["service_name"] = check_answer("service_name", name)
    destination = Path(dest or name)
    try:
        new_service(destination, answers)
    except OSError as error:
        where = error.filename or destination
        raise KubestepError(f"cannot write {where}: {error.strerror}") from None
    print(f"{name} is ready in {destination}: `make -C {destination}` lists its targets")


creation = Collection("creation", new)
