"""Step 5, continuous deployment: from deploys by hand to CI that tests, builds, pushes and
rolls out, because releases should be boring.

The pipeline is make targets (`make ci`, docker_push, deploy), called by GitHub Actions and
Travis alike; the CI files a repo already has are kept, and kubestep's go beside them.
"""

from pathlib import Path

from kubestep.errors import StepError
from kubestep.inventory import ci_files
from kubestep.inventory.model import CiFile, Inventory
from kubestep.inventory.tree import SourceTree
from kubestep.merge import Change
from kubestep.repo import git
from kubestep.steps import Answers, Step

ANSWERS_FILE = ".copier-answers.yml"
# The targets make/ci.mk adds, which the CI files call by name.
CI_TARGETS = (
    "ci",
    "ci_tools",
    "registry_login",
    "image_digest",
    "promote",
    "kube_credentials",
    "kube_deploy",
    "kube_deployer",
)


def existing_ci_files(target: Path) -> list[CiFile]:
    """The CI files the target has, as the inventory reads them."""
    return ci_files.read(SourceTree(target), Inventory()).ci_files


def decide(target: Path, answers: Answers) -> Answers:
    """Refuse a Makefile that has CI's target names already; then pick the release branch."""
    legacy = answers.get("legacy") or {}
    clashes = sorted(set(CI_TARGETS) & set(legacy.get("make_targets") or []))
    if clashes:
        raise StepError(
            f"step 5 adds make targets your Makefile (legacy.mk) already has: {', '.join(clashes)};"
            " rename yours (CI calls kubestep's by these names), commit, and run step 5 again"
        )
    return release_branch(target, answers)


def release_branch(target: Path, answers: Answers) -> Answers:
    """The branch to deploy from: recorded, else the one branch the repo and its CI name."""
    if answers.get("release_branch"):
        return answers
    local = git(target, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()
    named = [branch for found in existing_ci_files(target) for branch in found.branches]
    candidates = sorted(set(local) | set(named))
    if len(candidates) == 1:
        return {**answers, "release_branch": candidates[0]}
    raise StepError(
        "step 5 cannot tell which branch releases to staging: candidates "
        f"{', '.join(candidates) or 'none'} (from the repo's branches and CI files); answer it "
        "with `inv migrate --step 5 ... --set release_branch=NAME`"
    )


def note_existing(changes: list[Change], target: Path, answers: Answers) -> list[Change]:
    """Say in the commit which CI files were kept, beside kubestep's."""
    kept = [found.path for found in existing_ci_files(target)]
    if not kept:
        return changes
    note = f"beside {', '.join(kept)}, kept as they are"
    return [
        Change(c.path, c.action, c.file, c.note or note)
        if c.path.startswith(".github/workflows/")
        else c
        for c in changes
    ]


STEP = Step(
    number=5,
    label="5",
    title="continuous deployment: GitHub Actions and Travis",
    answer="continuous_deployment",
    needs=4,
    adds=[
        "a test stage in the Dockerfile and make ci: lint and tests against the shipped "
        "dependencies",
        ".github/workflows/kubestep.yml and .travis.yml: test, build once, push, deploy the "
        "digest to staging, promote it to production on a tag",
        "make docker_push records the digest; make deploy ENV=... rolls it out atomically",
        "kube/deployer: a namespaced least-privilege ServiceAccount and Role for CI",
    ],
    decide=decide,
    adjust=note_existing,
)
