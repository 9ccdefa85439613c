"""dump / restore / cp / diff through the `pykeeper` entry point: a
generated tree of 5,000 nodes with binary data comes back identical;
copies and comparisons between two real servers; conflicts, --overwrite,
--dry-run and bad dump files."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

import pykeeper

from .conftest import COMMAND, Run, run_command


def tree_of(client: pykeeper.ZooKeeper, root: str) -> Dict[str, Tuple[bytes, bool]]:
    """relative path -> (data, ephemeral) of every node at and below root."""
    found: Dict[str, Tuple[bytes, bool]] = {}
    todo = [root]
    while todo:
        path = todo.pop()
        data, stat = client.get(path)
        found[path[len(root):]] = (data, bool(stat.ephemeralOwner))
        todo.extend(f"{path}/{name}" for name in client.get_children(path))
    return found


def make_tree(client: pykeeper.ZooKeeper, root: str, count: int, seed: int = 7) -> None:
    """`count` nodes below root, up to 4 levels deep, a third with binary data."""
    rng = random.Random(seed)
    paths = [root]
    batch = client.transaction()
    for i in range(count):
        parent = rng.choice(paths[-200:]) if len(paths) > 1 and rng.random() < 0.8 else root
        if parent.count("/") - root.count("/") >= 4:
            parent = root
        path = f"{parent}/n{i}"
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(40))) if i % 3 == 0 \
            else f"value {i} ü".encode()
        batch.create(path, data)
        paths.append(path)
        if len(batch) == 500:
            batch.commit()
            batch = client.transaction()
    if len(batch):
        batch.commit()


def test_dump_then_restore_5000_nodes_gives_an_identical_tree(
        cli: Run, base: str, client: pykeeper.ZooKeeper, tmp_path: Path, zk_server: Any) -> None:
    client.create(base + "/src", b"\xffroot")
    make_tree(client, base + "/src", 5000)
    with pykeeper.ZooKeeper(zk_server.hosts) as owner:
        owner.create(base + "/src/session", b"ephemeral", ephemeral=True)
        dump = tmp_path / "tree.json"
        result = cli("dump", base + "/src", "-o", str(dump))
        assert result.returncode == 0, result.stderr
        source = {p: v for p, v in tree_of(client, base + "/src").items() if not v[1]}
        assert len(source) == 5001
    document = json.loads(dump.read_text())
    assert document["format"] == "pykeeper-dump" and len(document["nodes"]) == 5001
    assert all(node["path"] != "/session" for node in document["nodes"])
    restored = cli("restore", str(dump), base + "/copy")
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout == f"created 5001, overwrote 0 nodes under {base}/copy\n"
    assert tree_of(client, base + "/copy") == source
    assert cli("diff", base + "/src", base + "/copy").returncode == 0


def test_restore_refuses_existing_nodes_unless_overwrite(cli: Run, base: str,
                                                        client: pykeeper.ZooKeeper,
                                                        tmp_path: Path) -> None:
    client.create_recursive(base + "/a/b", b"old")
    dump = tmp_path / "a.json"
    dump.write_text(cli("dump", base + "/a").stdout)
    client.set(base + "/a/b", b"changed")
    refused = cli("restore", str(dump), base + "/a")
    assert refused.returncode == 4 and "--overwrite" in refused.stderr
    assert client.get(base + "/a/b")[0] == b"changed"
    dry = cli("restore", str(dump), base + "/a", "--overwrite", "--dry-run")
    assert dry.stdout.splitlines() == [f"would set {base}/a", f"would set {base}/a/b"]
    assert client.get(base + "/a/b")[0] == b"changed"
    done = json.loads(cli("restore", str(dump), base + "/a", "--overwrite", "--json").stdout)
    assert done == {"target": base + "/a", "created": 0, "overwritten": 2, "dry_run": False}
    assert client.get(base + "/a/b")[0] == b"old"


def test_restore_reads_standard_input_and_rejects_what_is_not_a_dump(
        cli: Run, base: str, client: pykeeper.ZooKeeper) -> None:
    client.create(base + "/x", b"1")
    dumped = cli("dump", base + "/x").stdout
    assert cli("restore", "-", base + "/y", input=dumped).returncode == 0
    assert client.get(base + "/y")[0] == b"1"
    bad = cli("restore", "-", base + "/z", input='{"nodes": []}')
    assert bad.returncode == 2 and "not a pykeeper dump" in bad.stderr
    broken = cli("restore", "-", base + "/z", input="{")
    assert broken.returncode == 2 and "not a dump" in broken.stderr
    missing = cli("restore", "/no/such/file.json", base + "/z")
    assert missing.returncode == 1 and "No such file" in missing.stderr
    assert client.exists(base + "/z") is None


def test_dump_with_acl_and_restore_with_acl(cli: Run, base: str,
                                           client: pykeeper.ZooKeeper, tmp_path: Path) -> None:
    client.create(base + "/r", b"", acl=pykeeper.READ_ACL_UNSAFE)
    dump = tmp_path / "acl.json"
    assert cli("dump", base + "/r", "--acl", "-o", str(dump)).returncode == 0
    assert json.loads(dump.read_text())["nodes"][0]["acl"] == [
        {"scheme": "world", "id": "anyone", "perms": 1}]
    assert cli("restore", str(dump), base + "/r2", "--acl").returncode == 0
    assert int(client.get_acl(base + "/r2")[0][0].perms) == 1


def test_cp_and_diff_between_two_clusters(cli: Run, base: str, client: pykeeper.ZooKeeper,
                                          zk_fresh_server: Any) -> None:
    other = zk_fresh_server.hosts
    client.create_recursive(base + "/app/config", b"colour=red")
    client.create(base + "/app/blob", b"\x00\x01\x02")
    copied = cli("cp", base + "/app", "/imported", "--to-hosts", other)
    assert copied.returncode == 0 and "created 3" in copied.stdout
    with pykeeper.ZooKeeper(other) as remote:
        assert remote.get("/imported/config")[0] == b"colour=red"
        assert remote.get("/imported/blob")[0] == b"\x00\x01\x02"
        assert cli("diff", base + "/app", "/imported", "--hosts-b", other).returncode == 0
        remote.set("/imported/config", b"colour=blue")
        remote.create("/imported/extra")
        remote.delete("/imported/blob")
    diff = cli("diff", base + "/app", "/imported", "--hosts-b", other)
    assert diff.returncode == 1
    assert diff.stdout.splitlines() == ["- /blob", "~ /config", "+ /extra"]
    changes = json.loads(cli("diff", base + "/app", "/imported", "--hosts-b", other,
                             "--json").stdout)
    assert {c["change"] for c in changes} == {"only_a", "data", "only_b"}
    again = cli("cp", base + "/app", "/imported", "--to-hosts", other)
    assert again.returncode == 4


def test_cp_within_a_cluster_and_not_into_itself(cli: Run, base: str,
                                                client: pykeeper.ZooKeeper) -> None:
    client.create_recursive(base + "/one/two", b"2")
    assert cli("cp", base + "/one", base + "/three").returncode == 0
    assert client.get(base + "/three/two")[0] == b"2"
    into = cli("cp", base + "/one", base + "/one/inside")
    assert into.returncode == 2 and "into itself" in into.stderr
    unreachable = run_command("cp", base + "/one", "/x", "--to-hosts", "127.0.0.1:1",
                              "--timeout", "1", hosts=client.hosts)
    assert unreachable.returncode == 6


def test_a_dump_with_paths_outside_its_root_writes_nothing(cli: Run, base: str,
                                                          client: pykeeper.ZooKeeper) -> None:
    document = {"format": "pykeeper-dump", "version": 1, "nodes": [
        {"path": "", "data": ""}, {"path": "/fine", "data": "1"}, {"path": "/../escape"}]}
    bad = cli("restore", "-", base + "/t", input=json.dumps(document))
    assert bad.returncode == 2 and "bad path '/../escape'" in bad.stderr
    assert client.exists(base + "/t") is None and client.exists("/escape") is None


def test_restore_shows_progress_on_a_terminal(base: str, client: pykeeper.ZooKeeper,
                                             tmp_path: Path) -> None:
    from .test_shell import Terminal
    document = {"format": "pykeeper-dump", "version": 1,
                "nodes": [{"path": ""}] + [{"path": f"/n{i}", "data": str(i)}
                                           for i in range(1200)]}
    dump = tmp_path / "big.json"
    dump.write_text(json.dumps(document))
    import os
    term = Terminal(["/bin/sh", "-c", f"exec '{COMMAND}' restore '{dump}' '{base}/p'"],
                    dict(os.environ, ZOOKEEPER_HOSTS=client.hosts))
    try:
        term.expect(r"restoring \[#{30}\] 1201/1201")
        term.expect(rf"created 1201, overwrote 0 nodes under {base}/p")
    finally:
        assert term.close() == 0
    assert len(client.get_children(base + "/p")) == 1200


def test_a_whole_cluster_dumps_and_restores_into_another(cli: Run, base: str, tmp_path: Path,
                                                         zk_fresh_server: Any) -> None:
    dump = tmp_path / "all.json"
    assert cli("dump", "/", "-o", str(dump)).returncode == 0
    paths = [n["path"] for n in json.loads(dump.read_text())["nodes"]]
    assert not any(p == "/zookeeper" or p.startswith("/zookeeper/") for p in paths)
    assert base in paths
    restored = run_command("restore", str(dump), "/", hosts=zk_fresh_server.hosts)
    assert restored.returncode == 0, restored.stderr
    with pykeeper.ZooKeeper(zk_fresh_server.hosts) as other:
        assert other.exists(base) is not None


def test_nodes_near_the_request_limit_get_batches_of_their_own(
        cli: Run, base: str, client: pykeeper.ZooKeeper) -> None:
    client.create(base + "/s")
    for name in ("a", "b", "c"):
        client.create(f"{base}/s/{name}", name.encode() * 600_000)
    copied = cli("cp", base + "/s", base + "/t")
    assert copied.returncode == 0, copied.stderr
    assert client.get(base + "/t/b")[0] == b"b" * 600_000


def test_acls_are_set_after_the_nodes_below_them_exist(cli: Run, base: str, tmp_path: Path,
                                                       client: pykeeper.ZooKeeper) -> None:
    client.create(base + "/locked", b"")
    client.create(base + "/locked/inside", b"1")
    read_admin = [pykeeper.ACL(pykeeper.Permission.READ | pykeeper.Permission.ADMIN,
                               pykeeper.Id("world", "anyone"))]  # (no create below it)
    client.set_acl(base + "/locked", read_admin)
    copied = cli("cp", base + "/locked", base + "/copy", "--acl")
    assert copied.returncode == 0, copied.stderr
    assert client.get(base + "/copy/inside")[0] == b"1"
    assert client.get_acl(base + "/copy")[0] == read_admin
    for path in (base + "/locked", base + "/copy"):
        client.set_acl(path, pykeeper.OPEN_ACL_UNSAFE)


@pytest.mark.parametrize("nodes, what", [
    ([{"path": ""}, {"path": "/a"}, {"path": "/a"}], "twice"),
    ([{"path": ""}, {"path": "/a/b"}, {"path": "/a"}], "before (or without) its parent"),
    ([{"path": ""}, {"path": "/a", "data_base64": "!!!"}], "bad data_base64"),
    ([{"path": ""}, {"path": "/a", "acl": [{"scheme": "world"}]}], "bad acl"),
])
def test_a_bad_dump_is_refused_before_anything_is_written(
        cli: Run, base: str, client: pykeeper.ZooKeeper, nodes: Any, what: str) -> None:
    document = {"format": "pykeeper-dump", "version": 1, "nodes": nodes}
    result = cli("restore", "-", base + "/t", "--acl", input=json.dumps(document))
    assert result.returncode == 2 and what in result.stderr, result.stderr
    assert client.exists(base + "/t") is None


def test_a_dry_run_in_json_is_one_document(cli: Run, base: str,
                                          client: pykeeper.ZooKeeper) -> None:
    client.create_recursive(base + "/src/kid")
    plan = json.loads(cli("cp", base + "/src", base + "/dst", "--dry-run", "--json").stdout)
    assert plan["plan"] == [f"create {base}/dst", f"create {base}/dst/kid"]
    assert plan["dry_run"] is True and client.exists(base + "/dst") is None
