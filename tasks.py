"""kubestep's tasks: `inv --list`. Each concern lives in kubestep/tasks/; this file composes.

The tasks are flat (`inv migrate`, not `inv migration.migrate`): there are few, and README's
commands stay short.
"""

from invoke.collection import Collection

from kubestep.tasks.demo import demonstration
from kubestep.tasks.dev import dev
from kubestep.tasks.docker import docker
from kubestep.tasks.migrate import migration
from kubestep.tasks.new import creation

namespace = Collection()
for concern in (dev, demonstration, docker, migration, creation):
    for task in concern.tasks.values():
        namespace.add_task(task)
