"""Every node command through the installed `pykeeper` entry point against
a real server: its output, its --json, its exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

import pykeeper

from .conftest import COMMAND, Run, run_command


def test_help_lists_every_command_and_the_exit_codes() -> None:
    result = run_command("--help")
    assert result.returncode == 0
    for name in ("ls", "tree", "stat", "get", "set", "create", "rm", "getacl", "setacl", "sync",
                 "watch", "find", "du", "diff", "dump", "restore", "cp", "server", "shell"):
        assert f"    {name} " in result.stdout, name
    assert "exit codes:" in result.stdout and "130" in result.stdout
    sub = run_command("restore", "--help")
    assert sub.returncode == 0 and "--overwrite" in sub.stdout and "--hosts" in sub.stdout


def test_python_dash_m_runs_the_same_command() -> None:
    result = subprocess.run([sys.executable, "-m", "pykeeper", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "usage: pykeeper" in result.stdout


def test_create_get_set_stat(cli: Run, base: str, client: pykeeper.ZooKeeper) -> None:
    created = cli("create", "-p", f"{base}/a/b", "hello")
    assert (created.returncode, created.stdout) == (0, f"{base}/a/b\n")
    assert cli("get", f"{base}/a/b").stdout == "hello\n"
    assert cli("set", f"{base}/a/b", "world").returncode == 0
    assert client.get(f"{base}/a/b")[0] == b"world"
    assert cli("set", f"{base}/a/b", "-", input="from stdin").returncode == 0
    assert client.get(f"{base}/a/b")[0] == b"from stdin"
    stat = json.loads(cli("stat", f"{base}/a/b", "--json").stdout)
    assert stat["version"] == 2 and stat["dataLength"] == 10 and stat["path"] == f"{base}/a/b"
    text = cli("stat", f"{base}/a/b").stdout
    assert "version" in text and "dataLength      10" in text
    got = json.loads(cli("get", f"{base}/a/b", "--stat", "--json").stdout)
    assert got["data"] == "from stdin" and got["stat"]["version"] == 2


def test_create_flags(cli: Run, base: str, client: pykeeper.ZooKeeper) -> None:
    seq = cli("create", "-s", f"{base}/job-", "x").stdout.strip()
    assert seq == f"{base}/job-0000000000"
    assert cli("create", "-c", f"{base}/box").returncode == 0
    assert client.exists(f"{base}/box") is not None
    assert cli("create", "-e", f"{base}/gone").returncode == 0
    assert client.exists(f"{base}/gone") is None  # (ephemeral: gone with the command's session)
    exists = cli("create", f"{base}/box")
    assert exists.returncode == 4 and exists.stderr.startswith("pykeeper: ")
    assert cli("create", f"{base}/no/parent").returncode == 3
    assert cli("create", f"{base}/ttl", "--ttl", "60000").returncode == 0
    assert client.exists(f"{base}/ttl") is not None  # (a TTL node: persistent until idle)


def test_ls_plain_long_recursive_and_json(cli: Run, base: str,
                                          client: pykeeper.ZooKeeper) -> None:
    client.create(f"{base}/b", b"12345")
    client.create(f"{base}/a")
    client.create(f"{base}/a/x")
    assert cli("ls", base).stdout == "a\nb\n"
    long = cli("ls", "-l", base).stdout.splitlines()
    assert long[0].split()[:2] == ["0", "1"] and long[0].endswith(" a")
    assert long[1].split()[:2] == ["5", "0"] and long[1].endswith(" b")
    assert json.loads(cli("ls", base, "--json").stdout) == ["a", "b"]
    assert sorted(json.loads(cli("ls", "-R", base, "--json").stdout)) == \
        [f"{base}/a", f"{base}/a/x", f"{base}/b"]
    entries = json.loads(cli("ls", "-l", base, "--json").stdout)
    assert [(e["name"], e["dataLength"]) for e in entries] == [("a", 0), ("b", 5)]


def test_tree_draws_sizes_and_child_counts(cli: Run, base: str,
                                           client: pykeeper.ZooKeeper) -> None:
    client.create(f"{base}/a", b"xy")
    client.create(f"{base}/a/deep")
    client.create(f"{base}/a/deep/er")
    client.create(f"{base}/b")
    lines = cli("tree", base).stdout.splitlines()
    assert lines == [f"{base}  (0 B, 2 children)", "├── a  (2 B, 1 children)",
                     "│   └── deep  (0 B, 1 children)", "│       └── er  (0 B, 0 children)",
                     "└── b  (0 B, 0 children)"]
    assert len(cli("tree", base, "--depth", "1").stdout.splitlines()) == 3
    tree = json.loads(cli("tree", base, "--json").stdout)
    assert [n["name"] for n in tree["nodes"]] == ["a", "b"] and tree["nodes"][0]["bytes"] == 2


def test_binary_data_is_never_raw_on_a_terminal_but_raw_to_a_pipe(
        cli: Run, base: str, client: pykeeper.ZooKeeper) -> None:
    client.create(f"{base}/bin", b"\x00\xffdata")
    got = json.loads(cli("get", f"{base}/bin", "--json").stdout)
    assert got["data"] is None and got["data_base64"] == "AP9kYXRh"
    raw = subprocess.run([COMMAND, "--hosts", client.hosts, "get", f"{base}/bin"],
                         capture_output=True, timeout=60)
    assert raw.stdout == b"\x00\xffdata"  # (to a pipe: the bytes; a terminal: see the shell test)


def test_rm_plain_recursive_dry_run_and_ephemerals(cli: Run, base: str, zk_server: Any,
                                                   client: pykeeper.ZooKeeper) -> None:
    client.create_recursive(f"{base}/t/a/b")
    assert cli("rm", f"{base}/t").returncode == 7  # (not empty)
    dry = cli("rm", "-r", "--dry-run", f"{base}/t")
    assert dry.stdout.splitlines() == [f"would remove {base}/t/a/b", f"would remove {base}/t/a",
                                       f"would remove {base}/t"]
    assert client.exists(f"{base}/t/a/b") is not None
    with pykeeper.ZooKeeper(zk_server.hosts) as owner:
        owner.create(f"{base}/t/a/mine", ephemeral=True)
        kept = cli("rm", "-r", f"{base}/t")
        assert kept.returncode == 0 and "kept" in kept.stderr
        assert client.exists(f"{base}/t/a/mine") is not None
        assert client.exists(f"{base}/t/a/b") is None
        assert cli("rm", "-r", "--force", f"{base}/t").returncode == 0
        assert client.exists(f"{base}/t") is None
    assert cli("rm", f"{base}/t").returncode == 3
    client.create(f"{base}/v")
    assert cli("rm", f"{base}/v", "--version", "5").returncode == 7
    assert cli("rm", f"{base}/v").returncode == 0


def test_acls_shown_and_set_as_scheme_id_perms(cli: Run, base: str,
                                               client: pykeeper.ZooKeeper) -> None:
    assert cli("getacl", base).stdout == "world:anyone:cdrwa\n"
    assert cli("setacl", base, "world:anyone:ra", "digest:bob:c2VjcmV0:cdrwa").returncode == 0
    acls, stat = client.get_acl(base)
    assert [(a.id.scheme, a.id.id, int(a.perms)) for a in acls] == [
        ("world", "anyone", 17), ("digest", "bob:c2VjcmV0", 31)]
    shown = json.loads(cli("getacl", base, "--json").stdout)
    assert shown["acl"][1] == {"scheme": "digest", "id": "bob:c2VjcmV0", "perms": "cdrwa"}
    bad = cli("setacl", base, "world:anyone:rx")
    assert bad.returncode == 2 and "bad permission 'x'" in bad.stderr
    denied = cli("set", base, "x")
    assert denied.returncode == 5 and denied.stderr.count("\n") == 1
    client.set_acl(base, pykeeper.OPEN_ACL_UNSAFE)


def test_find_and_du(cli: Run, base: str, client: pykeeper.ZooKeeper, zk_server: Any) -> None:
    client.create_recursive(f"{base}/svc/web", b"port=80")
    client.create_recursive(f"{base}/svc/db", b"port=5432")
    client.create(f"{base}/other", b"none")
    assert cli("find", base, "--name", "d*").stdout == f"{base}/svc/db\n"
    assert cli("find", base, "--data", "port=[0-9]{4}").stdout == f"{base}/svc/db\n"
    with pykeeper.ZooKeeper(zk_server.hosts) as owner:
        owner.create(f"{base}/svc/web/lease", ephemeral=True)
        assert json.loads(cli("find", base, "--ephemeral", "--json").stdout) == \
            [f"{base}/svc/web/lease"]
    usage = {e["path"]: (e["bytes"], e["nodes"]) for e in json.loads(
        cli("du", base, "--json").stdout)}
    assert usage == {f"{base}/svc": (16, 3), f"{base}/other": (4, 1), base: (20, 5)}
    lines = cli("du", base).stdout.splitlines()
    assert lines[0].split() == ["bytes", "nodes", "path"] and lines[-1].split() == ["20", "5", base]


def test_sync(cli: Run, base: str) -> None:
    assert cli("sync", base).returncode == 0


def test_server_words_as_a_table(cli: Run, zk_server: Any) -> None:
    srvr = cli("server")
    assert srvr.returncode == 0 and "Mode" in srvr.stdout and "standalone" in srvr.stdout
    assert zk_server.hosts in srvr.stdout.splitlines()[0]
    mntr = json.loads(cli("server", "mntr", "--json").stdout)
    assert mntr[zk_server.hosts]["zk_server_state"] == "standalone"
    assert "imok" in cli("server", "ruok").stdout


@pytest.mark.parametrize("args, code, text", [
    (("get", "/no/such/node"), 3, "no node"),
    (("bogus",), 2, "invalid choice"),
    (("get",), 2, "the following arguments are required: path"),
    (("create", "relative"), 0, ""),
])
def test_errors_are_one_line_and_an_exit_code(cli: Run, base: str, args: Any, code: int,
                                              text: str) -> None:
    if args == ("create", "relative"):  # (relative paths start at /)
        args = ("create", base.lstrip("/") + "/rel")
    result = cli(*args)
    assert result.returncode == code, result.stderr
    assert text in result.stderr and "Traceback" not in result.stderr
    if code == 0:
        assert result.stdout == f"{base}/rel\n"


def test_no_server_is_exit_code_6_within_the_timeout() -> None:
    result = run_command("--timeout", "1", "ls", "/", hosts="127.0.0.1:1")
    assert result.returncode == 6 and "gave a session within 1.0 s" in result.stderr
    assert result.stderr.count("\n") == 1


def test_credentials_come_from_a_file_or_the_environment(cli: Run, base: str, tmp_path: Any,
                                                         client: pykeeper.ZooKeeper) -> None:
    secret = tmp_path / "auth"
    secret.write_text("digest:alice:secret\n")
    assert cli("--auth-file", str(secret), "create", f"{base}/private", "mine").returncode == 0
    assert cli("--auth-file", str(secret), "setacl", f"{base}/private",
               "auth::cdrwa").returncode == 0
    assert cli("get", f"{base}/private").returncode == 5
    allowed = cli("get", f"{base}/private", env={"ZOOKEEPER_AUTH": "digest:alice:secret"})
    assert allowed.stdout == "mine\n"
    assert "secret" not in allowed.stdout + allowed.stderr
    bad = cli("ls", "/", env={"ZOOKEEPER_AUTH": "no-colon"})
    assert bad.returncode == 2 and "SCHEME:CREDENTIAL" in bad.stderr
    assert cli("--auth-file", str(secret), "rm", f"{base}/private").returncode == 0


def test_sasl_credentials_log_in_before_anything_is_sent(zk_sasl_server: Any) -> None:
    server = zk_sasl_server
    password = server.sasl_options("bob")["password"]
    bob = {"ZOOKEEPER_AUTH": f"sasl:DIGEST-MD5:bob:{password}"}
    made = run_command("create", "/bobs", "for bob", hosts=server.hosts, env=bob)
    assert made.returncode == 0, made.stderr
    assert run_command("setacl", "/bobs", "sasl:bob:cdrwa", hosts=server.hosts,
                       env=bob).returncode == 0
    got = run_command("get", "/bobs", hosts=server.hosts, env=bob)
    assert got.stdout == "for bob\n" and password not in got.stdout + got.stderr
    assert run_command("get", "/bobs", hosts=server.hosts).returncode == 5  # (anonymous)
    wrong = run_command("get", "/bobs", hosts=server.hosts,
                        env={"ZOOKEEPER_AUTH": "sasl:DIGEST-MD5:bob:wrong-password"})
    assert wrong.returncode == 5 and "as user 'bob'" in wrong.stderr
    assert wrong.stderr.count("\n") == 1 and "wrong-password" not in wrong.stderr
    bad = run_command("ls", "/", hosts=server.hosts, env={"ZOOKEEPER_AUTH": "sasl:PLAIN:x"})
    assert bad.returncode == 2 and "sasl:DIGEST-MD5:USER:PASSWORD" in bad.stderr


def test_tls_options(zk_tls_server: Any) -> None:
    server = zk_tls_server
    result = run_command("--ca", server.ca_file, "--cert", server.client_cert,
                         "--key", server.client_key, "ls", "/", hosts=server.tls_hosts)
    assert result.returncode == 0 and "zookeeper" in result.stdout.split()
    refused = run_command("--ca", server.ca_file, "--timeout", "1", "ls", "/",
                          hosts=server.tls_hosts)
    assert refused.returncode == 6


def test_create_p_under_a_parent_that_exists(cli: Run, base: str,
                                             client: pykeeper.ZooKeeper) -> None:
    assert cli("create", "-p", f"{base}/x/one").returncode == 0
    assert cli("create", "-p", f"{base}/x/two", "2").returncode == 0
    assert cli("create", "-p", f"{base}/three").returncode == 0
    assert sorted(client.get_children(f"{base}/x")) == ["one", "two"]


def test_rm_checks_what_it_would_do(cli: Run, base: str, client: pykeeper.ZooKeeper) -> None:
    client.create_recursive(f"{base}/d/kid")
    assert cli("rm", "--dry-run", f"{base}/d").returncode == 7
    assert cli("rm", "--dry-run", f"{base}/d/kid").stdout == f"would remove {base}/d/kid\n"
    assert cli("rm", "-r", "--version", "0", f"{base}/d").returncode == 2
    assert client.exists(f"{base}/d/kid") is not None


def test_bad_option_values_are_usage_errors(cli: Run, base: str) -> None:
    for args in (("--timeout", "0", "ls", "/"), ("--timeout", "nan", "ls", "/"),
                 ("tree", base, "--depth", "-1"), ("find", base, "--data", "(")):
        result = cli(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, args


def test_a_closed_pipe_ends_the_command_quietly(cli: Run, base: str, zk_server: Any,
                                               client: pykeeper.ZooKeeper) -> None:
    client.create(f"{base}/big", b"x" * 1_000_000)
    result = subprocess.run(
        ["bash", "-c", f"'{COMMAND}' --hosts {zk_server.hosts} get {base}/big | head -c 1; "
                       f"echo \" ${{PIPESTATUS[0]}}\""], capture_output=True, text=True, timeout=60)
    assert result.stdout == "x 0\n" and result.stderr == ""


def test_text_that_would_steer_a_terminal_is_not_text() -> None:
    from pykeeper.cli.output import data_text, is_text
    assert is_text("plain, grüße\tand\nlines".encode())
    for sneaky in ("\x1b[31m", "\u009b31m", "\u202eevil", "\x00"):
        assert not is_text(sneaky.encode()), repr(sneaky)
        assert data_text(sneaky.encode()).startswith("b'")


def test_server_asks_every_member_of_the_ensemble(zk_ensemble: Any) -> None:
    first = zk_ensemble.hosts.split(",")[0]
    result = run_command("server", hosts=first)
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header[1:] == zk_ensemble.hosts.split(",")
    modes = [line.split()[1:] for line in result.stdout.splitlines() if line.startswith("Mode")]
    assert sorted(modes[0]) == ["follower", "follower", "leader"]
    zk_ensemble.stop_member(2)
    zk_ensemble.wait_for_leader()  # (a member still electing may not list the others)
    partly = run_command("server", "ruok", "--json", hosts=first)
    answers = json.loads(partly.stdout)
    assert answers[zk_ensemble.hosts.split(",")[2]]["error"]
    assert partly.returncode == 0


def test_tree_of_a_path_deeper_than_pythons_stack(cli: Run, base: str,
                                                  client: pykeeper.ZooKeeper) -> None:
    paths = [base + "/d" * level for level in range(1, 1201)]
    for start in range(0, len(paths), 200):
        batch = client.transaction()
        for path in paths[start:start + 200]:
            batch.create(path)
        batch.commit()
    try:
        drawn = cli("tree", base)
        assert drawn.returncode == 0, drawn.stderr
        lines = drawn.stdout.splitlines()
        assert len(lines) == 1201 and lines[-1] == " " * 4 * 1199 + "└── d  (0 B, 0 children)"
    finally:  # (deepest first: the client's delete_recursive recurses per level)
        for start in range(len(paths), 0, -200):
            batch = client.transaction()
            for path in reversed(paths[max(0, start - 200):start]):
                batch.delete(path)
            batch.commit()


def test_whoami_lists_the_sessions_identities(cli: Run) -> None:
    plain = cli("whoami")
    assert plain.returncode == 0 and plain.stdout.split()[:4] == ["scheme", "user", "ip",
                                                                  "127.0.0.1"]
    authed = cli("whoami", "--json", env={"ZOOKEEPER_AUTH": "digest:carol:pw"})
    assert {"auth_scheme": "digest", "user": "carol"} in json.loads(authed.stdout)


def test_config_shows_the_ensembles_members(zk_ensemble: Any, zk_server: Any) -> None:
    shown = run_command("config", hosts=zk_ensemble.hosts)
    assert shown.returncode == 0, shown.stderr
    rows = shown.stdout.splitlines()
    assert rows[0].split() == ["id", "role", "quorum:election", "clients", "at"]
    assert [row.split()[0] for row in rows[1:4]] == ["1", "2", "3"]
    assert [row.split()[3] for row in rows[1:4]] == [m.hosts for m in zk_ensemble.members]
    data = json.loads(run_command("config", "--json", hosts=zk_ensemble.hosts).stdout)
    assert [m["client_address"] for m in data["members"]] == \
        [m.hosts for m in zk_ensemble.members]
    alone = run_command("config", hosts=zk_server.hosts)
    assert alone.returncode == 0 and "no dynamic configuration" in alone.stdout
