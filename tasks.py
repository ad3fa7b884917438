"""kubestep's tasks: `inv --list`. Each concern lives in kubestep/tasks/; this file composes."""

from invoke.collection import Collection

from kubestep.tasks.demo import demo
from kubestep.tasks.dev import lint, test
from kubestep.tasks.docker import base_image, engine, local_images
from kubestep.tasks.migrate import inventory, migrate, status, validate

namespace = Collection(
    test, lint, demo, engine, base_image, local_images, inventory, migrate, status, validate
)
