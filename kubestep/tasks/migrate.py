"""Migration tasks: read a legacy repo, move it on step by step, show where it stands."""

from pathlib import Path

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from kubestep import inventory as inventory_reader
from kubestep.migrate import migrate as run_migration
from kubestep.migrate import status as migration_status
from kubestep.tasks.errors import one_line_errors


@task(help={"target": "the legacy repository to read (default: .)"})
@one_line_errors
def inventory(c: Context, target: str = ".") -> None:
    """Read a legacy repo and write .kubestep/inventory.yml, then print a summary.

    :param target: the repository to read
    """
    found = inventory_reader.collect(Path(target))
    written = inventory_reader.write(found, Path(target))
    print(inventory_reader.summary(found))
    print(f"written: {written}")


@task(
    help={
        "step": "the step to reach: 1-6 or +1 (earlier steps not done yet run first)",
        "target": "the repository to migrate, a clean git work tree (default: .)",
        "dry_run": "print the plan and the diff, change nothing",
        "set": "answer what kubestep could not decide, as key=value (start_command, port, "
        "requirements, service_name); repeatable; kept in .kubestep/answers.yml",
    },
    iterable=["set"],
)
@one_line_errors
def migrate(
    c: Context, step: str, target: str = ".", dry_run: bool = False, set: list[str] | None = None
) -> None:
    """Move a service to a migration step, one git commit per step.

    :param step: the step to reach
    :param target: the repository to migrate
    :param dry_run: only show what would change
    :param set: answers as key=value
    """
    run_migration(Path(target), step, dry_run=dry_run, sets=set or [])


@task(help={"target": "the repository (default: .)"})
@one_line_errors
def status(c: Context, target: str = ".") -> None:
    """Show which steps are done and what each next step will add.

    :param target: the repository
    """
    print(migration_status(Path(target)))


@task(help={"target": "the service repository (default: .)"})
@one_line_errors
def validate(c: Context, target: str = ".") -> None:
    """Validate every environment's manifests: Kubernetes schemas and kubestep's rules.

    :param target: the service repository
    """
    from kubestep.kube.validate import validate_target

    findings = validate_target(Path(target))
    for environment, found in findings.items():
        print(f"{environment}: {len(found)} findings")
        for finding in found:
            print(f"  {finding}")
    if any(f.severity.value == "error" for group in findings.values() for f in group):
        raise Exit("error: the manifests break rules marked error (see above)", code=1)


migration = Collection("migration", inventory, migrate, status, validate)
