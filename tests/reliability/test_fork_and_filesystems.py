"""T15 fork safety and T16 the network-filesystem guard.

T15: a connection must never be used (or even closed) across fork(); a store
object used in the child abandons the parent's connections and writer thread
and opens its own. T16: WAL does not work over a network filesystem, so such a
path is refused unless the caller opts in.
"""

from __future__ import annotations

import os

import pytest

from orchestrator.errors import NetworkFilesystemError
from orchestrator.store import AppendRequest, NewEvent, SQLiteEventStore
from orchestrator.store import sqlite_connection as conn_module
from orchestrator.store.sqlite_connection import filesystem_type
from tests.reliability.helpers import integrity


def event(text: str) -> NewEvent:
    return NewEvent("t.fork", text.encode())


# -- T15 ----------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_reopens_transparently(db_path) -> None:
    store = SQLiteEventStore(db_path)
    try:
        store.append_blocking([AppendRequest("s", [event("parent-1")])])
        assert store.read_stream("s")  # the parent has a reader and a writer open
        parent_writer = store._writer._thread
        pid = os.fork()
        if pid == 0:  # the child: never return into pytest
            code = 1
            try:
                assert store._writer._thread is None  # the parent's thread is gone
                store.append_blocking([AppendRequest("s", [event("child")], 1)])
                assert [e.data for e in store.read_stream("s")] == [
                    b"parent-1",
                    b"child",
                ]
                store.close()
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # the parent's connections and writer were untouched by the child
        assert store._writer._thread is parent_writer
        store.append_blocking([AppendRequest("s", [event("parent-2")], 2)])
        assert [e.data for e in store.read_stream("s")] == [
            b"parent-1",
            b"child",
            b"parent-2",
        ]
    finally:
        store.close()
    assert integrity(db_path) == "ok"


# -- T16 ----------------------------------------------------------------------------------

MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:40 / /mnt/nfs rw,relatime shared:2 - nfs4 server:/export rw,vers=4.2
31 30 0:41 / /mnt/nfs/local rw shared:3 - ext4 /dev/sdb1 rw
32 22 0:42 / /home/me/remote rw,nosuid - fuse.sshfs me@host:/ rw
33 22 0:43 / /mnt/with\\040space rw - cifs //srv/share rw
34 22 0:44 / /tmp rw - tmpfs tmpfs rw
"""


@pytest.mark.parametrize(
    ("path", "fs"),
    [
        ("/mnt/nfs/flows.db", "nfs4"),
        ("/mnt/nfs/deeper/dir/flows.db", "nfs4"),
        ("/mnt/nfs/local/flows.db", "ext4"),
        ("/mnt/nfsother/flows.db", "ext4"),
        ("/home/me/remote/x/flows.db", "fuse.sshfs"),
        ("/mnt/with space/flows.db", "cifs"),
        ("/tmp/flows.db", "tmpfs"),
        ("/var/flows.db", "ext4"),
    ],
)
def test_filesystem_type_reads_mountinfo(tmp_path, path: str, fs: str) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(MOUNTINFO)
    assert filesystem_type(path, str(mountinfo)) == fs


def test_filesystem_type_without_mountinfo(tmp_path) -> None:
    assert filesystem_type("/x/y.db", str(tmp_path / "absent")) is None


@pytest.mark.parametrize(
    "fs", ["nfs4", "nfs", "cifs", "smb3", "fuse.sshfs", "lustre", "gpfs", "9p"]
)
def test_network_filesystems_are_refused(tmp_path, monkeypatch, fs: str) -> None:
    monkeypatch.setattr(conn_module, "filesystem_type", lambda path, *a: fs)
    path = tmp_path / "flows.db"
    with pytest.raises(NetworkFilesystemError) as caught:
        SQLiteEventStore(path)
    message = str(caught.value)
    assert repr(fs) in message
    assert "wal.html" in message
    assert "allow_network_fs=True" in message
    assert not path.exists()
    store = SQLiteEventStore(path, allow_network_fs=True)  # the explicit opt-in
    try:
        store.append_blocking([AppendRequest("s", [event("ok")])])
        assert len(store.read_stream("s")) == 1
    finally:
        store.close()


def test_the_guard_reads_the_real_mountinfo(tmp_path, monkeypatch) -> None:
    fake = tmp_path / "mountinfo"
    fake.write_text(
        f"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n40 22 0:50 / {tmp_path} rw - nfs4 srv:/x rw\n"
    )
    real = filesystem_type
    monkeypatch.setattr(
        conn_module, "filesystem_type", lambda path, *a: real(path, str(fake))
    )
    with pytest.raises(NetworkFilesystemError):
        SQLiteEventStore(tmp_path / "flows.db")


@pytest.mark.parametrize(
    "fs", ["ext4", "xfs", "btrfs", "tmpfs", "overlay", "fuse.other", None]
)
def test_local_filesystems_are_accepted(tmp_path, monkeypatch, fs) -> None:
    monkeypatch.setattr(conn_module, "filesystem_type", lambda path, *a: fs)
    SQLiteEventStore(tmp_path / "flows.db").close()
