"""The one way kubestep touches files of a target repo: never outside it, never a device.

A repository is untrusted input. A symlink in it can point at /etc/shadow, ~/.ssh or
~/.kube/config of whoever runs kubestep; a named pipe blocks a reader forever; a device never
ends. So every read resolves the path, requires a regular file inside the repo and caps its
size, and every write refuses a path that is, or goes through, a symlink. A refusal is a
RefusedFile whose message names the file and says why; readers turn it into a warning.

The threat is a hostile repository at rest (cloned, unpacked), not a process changing it
while kubestep runs.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from kubestep.errors import TargetError

MAX_FILE_BYTES = 1_000_000
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class RefusedFile(TargetError):
    """A file of the target kubestep does not read or write; the message names it and why."""

    def __init__(self, rel: str, reason: str) -> None:
        super().__init__(f"{rel}: {reason}")
        self.rel = rel
        self.reason = reason


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _parts(rel: str) -> tuple[str, ...]:
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise RefusedFile(rel, "not a path inside the repository")
    return path.parts


def _link_text(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def resolve_inside(root: Path, rel: str) -> Path:
    """The real path of root/rel: a regular file inside root, or RefusedFile saying why not.

    root must be resolved already. A link leaving the repo is refused whether or not its
    target exists, so the refusal says nothing about the machine kubestep runs on.
    """
    candidate = root.joinpath(*_parts(rel))
    try:
        real = candidate.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        raise RefusedFile(rel, "a symlink that loops: not read") from None
    if not real.is_relative_to(root):
        raise RefusedFile(
            rel, f"a symlink leading outside the repository (-> {_link_text(candidate)}): not read"
        )
    try:
        info = os.stat(real)
    except FileNotFoundError:
        if candidate.is_symlink():
            raise RefusedFile(rel, "a symlink to nothing: not read") from None
        raise
    if not stat.S_ISREG(info.st_mode):
        raise RefusedFile(rel, f"{kind_of(info.st_mode)}, not a regular file: not read")
    return real


def read_bytes(root: Path, rel: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of root/rel when it is a regular file inside root of at most limit bytes.

    FileNotFoundError when there is no such file; RefusedFile for everything kubestep will
    not read (a link out, a device, a FIFO, too big).
    """
    real = resolve_inside(root, rel)
    try:
        descriptor = os.open(real, _OPEN_FLAGS)
    except OSError as error:
        if error.errno == getattr(os, "ELOOP", -1):  # became a symlink after resolving
            raise RefusedFile(rel, "a symlink: not read") from None
        raise
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise RefusedFile(rel, f"{kind_of(info.st_mode)}, not a regular file: not read")
        if info.st_size > limit:
            raise RefusedFile(rel, f"larger than {_size(limit)}: not read")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise RefusedFile(rel, f"larger than {_size(limit)}: not read")
    return data


def read_text(root: Path, rel: str, limit: int = MAX_FILE_BYTES) -> str:
    """read_bytes as text: UTF-8, with bytes that are not kept as surrogates (round trip)."""
    return read_bytes(root, rel, limit).decode("utf-8", errors="surrogateescape")


def _size(limit: int) -> str:
    return f"{limit // 1_000_000} MB" if limit >= 1_000_000 else f"{limit} bytes"


def walk(root: Path, skip_dir: Callable[[Path], bool]) -> Iterator[tuple[str, str]]:
    """(relative POSIX path, '') for each regular file below root, or (path, why not) for an
    entry kubestep will not read: a link out of the tree, a device, a FIFO, a socket.

    Symlinks to directories are never followed (their files, when inside the repo, are listed
    at their real place); skip_dir(path) leaves out trees such as .git or a virtualenv.
    """
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            path = Path(entry.path)
            rel = path.relative_to(root).as_posix()
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not skip_dir(path):
                        pending.append(path)
                    continue
                if entry.is_symlink():
                    if _directory_inside(root, path):
                        continue  # its files are listed where they really are
                    resolve_inside(root, rel)
                elif not entry.is_file(follow_symlinks=False):
                    raise RefusedFile(
                        rel, f"{kind_of(entry.stat(follow_symlinks=False).st_mode)}: not read"
                    )
            except RefusedFile as refused:
                yield rel, refused.reason
                continue
            except (OSError, RuntimeError) as error:
                yield rel, f"cannot be read: {getattr(error, 'strerror', None) or error}"
                continue
            yield rel, ""


def _directory_inside(root: Path, link: Path) -> bool:
    try:
        target = link.resolve()
    except (OSError, RuntimeError):
        return False  # a loop: resolve_inside says so
    return target.is_relative_to(root) and target.is_dir()


def writable(root: Path, rel: str, *, deleting: bool = False) -> Path:
    """root/rel, when writing (or deleting) it stays inside root; RefusedFile otherwise.

    No part of rel may be a symlink (git would commit the link, while the write would land
    wherever it points) and the file itself, when it exists, must be a regular file. Deleting
    a link itself is fine: unlink never follows it.
    """
    parts = _parts(rel)
    current = root
    for index, part in enumerate(parts):
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            break  # the rest is created by kubestep
        shown = "/".join(parts[: index + 1])
        last = index == len(parts) - 1
        if last and deleting and stat.S_ISLNK(info.st_mode):
            break
        if stat.S_ISLNK(info.st_mode):
            raise RefusedFile(
                rel,
                f"kubestep must write here but {shown} is a symlink "
                f"(-> {_link_text(current)}) and kubestep does not write through links: "
                "replace it with a regular file or directory and rerun",
            )
        if last and not stat.S_ISREG(info.st_mode):
            raise RefusedFile(rel, f"kubestep must write here but it is {kind_of(info.st_mode)}")
        if not last and not stat.S_ISDIR(info.st_mode):
            raise RefusedFile(rel, f"kubestep must write here but {shown} is not a directory")
    return root.joinpath(*parts)
