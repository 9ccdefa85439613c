"""The `pykeeper` command line's parser: every command and its options."""

from __future__ import annotations

import argparse
from typing import Callable, Optional

from .context import EXIT_CODES, Context, add_connection_options, count
from .nodes import (
    cmd_create, cmd_get, cmd_getacl, cmd_ls, cmd_rm, cmd_set, cmd_setacl, cmd_stat, cmd_sync,
    cmd_tree,
)
from .servers import WORDS, cmd_config, cmd_server, cmd_whoami
from .transfer import cmd_cp, cmd_diff, cmd_du, cmd_dump, cmd_find, cmd_restore
from .watch import cmd_watch

__all__ = ["Command", "build_parser"]

Command = Callable[[Context, argparse.Namespace], int]

_DESCRIPTION = """\
Look at and change a ZooKeeper tree from a terminal or a script.

  pykeeper ls -l /app                 pykeeper get /app/config --json
  pykeeper tree /app --depth 2        pykeeper set /app/config '{"debug": true}'
  pykeeper create -p /app/a/b value   pykeeper rm -r /app/old --dry-run
  pykeeper watch -R /app              pykeeper dump /app > app.json
  pykeeper restore app.json /app2     pykeeper cp /app /app --to-hosts zk2:2181
  pykeeper server mntr                pykeeper shell
"""


def _exit_codes() -> str:
    return "exit codes:\n" + "\n".join(f"  {code:<4} {meaning}" for code, meaning in EXIT_CODES)


def build_parser(prog: str = "pykeeper",
                 shell: Optional[Command] = None) -> argparse.ArgumentParser:
    """The parser of every command, and of `shell` (run by `shell`) if given."""
    common = argparse.ArgumentParser(add_help=False)
    add_connection_options(common)
    parser = argparse.ArgumentParser(
        prog=prog, description=_DESCRIPTION, epilog=_exit_codes(), parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, fn: Command, summary: str,
                description: Optional[str] = None) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=summary, description=description or summary,
                                  parents=[common], epilog=_exit_codes(),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(func=fn)
        return sub

    def path_arg(sub: argparse.ArgumentParser, default: Optional[str] = None) -> None:
        if default is None:
            sub.add_argument("path", help="the node (relative paths start at the shell's cd)")
        else:
            sub.add_argument("path", nargs="?", default=default,
                             help=f"the node (default {default})")

    sub = command("ls", cmd_ls, "list a node's children")
    path_arg(sub, ".")
    sub.add_argument("-l", "--long", action="store_true",
                     help="with size, child count, modified time, e for ephemeral")
    sub.add_argument("-R", "--recursive", action="store_true",
                     help="every node below, as full paths")

    sub = command("tree", cmd_tree, "draw the tree below a node, with sizes and child counts")
    path_arg(sub, ".")
    sub.add_argument("--depth", type=count, metavar="N", help="at most N levels below the node")

    sub = command("stat", cmd_stat, "show a node's metadata (versions, times, owner, sizes)")
    path_arg(sub)

    sub = command("get", cmd_get, "print a node's data",
                  "Print a node's data: as text when it is UTF-8, else escaped on a terminal "
                  "and raw to a pipe or file. --json gives data_base64 for binary data.")
    path_arg(sub)
    sub.add_argument("--stat", action="store_true", help="and its metadata")

    sub = command("set", cmd_set, "replace a node's data")
    path_arg(sub)
    sub.add_argument("value", help="the new data, or - to read it from standard input")
    sub.add_argument("--version", type=int, default=-1,
                     help="only if the node is at this version (default: any)")

    sub = command("create", cmd_create, "create a node; prints its path")
    path_arg(sub)
    sub.add_argument("value", nargs="?", help="its data (- : standard input; default empty)")
    sub.add_argument("-e", "--ephemeral", action="store_true",
                     help="ephemeral (gone when this command exits: useful in the shell)")
    sub.add_argument("-s", "--sequential", action="store_true",
                     help="append a sequence number to the name")
    sub.add_argument("-c", "--container", action="store_true",
                     help="a container node (the server deletes it once its last child goes)")
    sub.add_argument("--ttl", type=int, metavar="MS",
                     help="a TTL node (the server must have extendedTypesEnabled)")
    sub.add_argument("-p", "--parents", action="store_true", help="create missing parents")

    sub = command("rm", cmd_rm, "delete a node (with -r, and everything below it)")
    path_arg(sub)
    sub.add_argument("-r", "--recursive", action="store_true", help="with everything below it")
    sub.add_argument("--dry-run", action="store_true", help="list what would go; delete nothing")
    sub.add_argument("--force", action="store_true",
                     help="delete ephemeral nodes too (kept by default, with their parents)")
    sub.add_argument("--version", type=int, default=-1,
                     help="only if the node is at this version (without -r)")

    sub = command("getacl", cmd_getacl, "show a node's ACL as scheme:id:perms lines")
    path_arg(sub)

    sub = command("setacl", cmd_setacl, "replace a node's ACL")
    path_arg(sub)
    sub.add_argument("acl", nargs="+", metavar="ACL",
                     help="scheme:id:perms, perms of cdrwa (world:anyone:r, "
                          "digest:user:HASH:cdrwa, ip:10.0.0.0/8:r, auth::cdrwa)")
    sub.add_argument("--version", type=int, default=-1, help="only at this ACL version")

    sub = command("sync", cmd_sync, "wait until the server has the leader's latest writes")
    path_arg(sub, "/")

    sub = command("watch", cmd_watch, "print every change of a node (-R: and below) until Ctrl-C",
                  "Print one line (or, with --json, one JSON object) per change until Ctrl-C; "
                  "keeps watching through reconnects and a new session. Needs ZooKeeper 3.6+.")
    path_arg(sub)
    sub.add_argument("-R", "--recursive", action="store_true", help="every node below too")
    sub.add_argument("--count", type=count, metavar="N", help="stop after N changes")

    sub = command("find", cmd_find, "list the nodes below a path that match")
    path_arg(sub)
    sub.add_argument("--name", metavar="GLOB", help="the node's name matches GLOB (fnmatch)")
    sub.add_argument("--data", metavar="REGEX", help="its data matches REGEX")
    sub.add_argument("--ephemeral", action="store_true", help="only ephemeral nodes")

    sub = command("du", cmd_du, "bytes of data and node counts of each subtree")
    path_arg(sub, "/")

    sub = command("diff", cmd_diff, "compare two subtrees (of one cluster, or two)",
                  "Print '- path' for a node only in A, '+ path' only in B, '~ path' where the "
                  "data differ (paths relative to A and B). Exit code 1 when they differ.")
    sub.add_argument("a", help="the first subtree")
    sub.add_argument("b", help="the second subtree")
    sub.add_argument("--hosts-b", metavar="HOSTS", help="B is on this cluster (default: --hosts)")

    sub = command("dump", cmd_dump, "write a subtree as JSON (to standard output or -o FILE)",
                  "Write a subtree as JSON: each node's path (relative to the root), its data "
                  "as text, or data_base64 where it is not UTF-8, and with --acl its ACL. "
                  "Ephemeral nodes are left out. `restore` writes it back.")
    path_arg(sub, "/")
    sub.add_argument("-o", "--output", metavar="FILE", help="write to FILE")
    sub.add_argument("--acl", action="store_true", help="include each node's ACL")

    sub = command("restore", cmd_restore, "create a dumped subtree under a path",
                  "Create the nodes of a dump under PATH, in batches of one transaction each. "
                  "Fails, writing nothing, if a node exists, unless --overwrite.")
    sub.add_argument("file", help="the dump (- : standard input)")
    path_arg(sub)
    sub.add_argument("--dry-run", action="store_true", help="list what would be written")
    sub.add_argument("--overwrite", action="store_true", help="replace existing nodes' data")
    sub.add_argument("--acl", action="store_true", help="give nodes their dumped ACLs")

    sub = command("cp", cmd_cp, "copy a subtree (within a cluster, or to another)")
    sub.add_argument("source", help="the subtree to copy")
    sub.add_argument("target", help="where its root goes")
    sub.add_argument("--to-hosts", metavar="HOSTS", help="the target cluster (default: --hosts)")
    sub.add_argument("--dry-run", action="store_true", help="list what would be written")
    sub.add_argument("--overwrite", action="store_true", help="replace existing nodes' data")
    sub.add_argument("--acl", action="store_true", help="copy the ACLs too")

    sub = command("server", cmd_server, "ask every server a four-letter word; a table",
                  "Ask each member of the ensemble (found from the first server of --hosts "
                  "that answers 'conf') a four-letter word and show the answers side by side "
                  "(the servers must allow the word in 4lw.commands.whitelist).")
    sub.add_argument("word", nargs="?", default="srvr", choices=WORDS,
                     help="srvr (default), stat, conf, mntr, ruok, cons or envi")

    command("config", cmd_config, "the ensemble's members, from its dynamic configuration",
            "Show the members of the ensemble's dynamic configuration (/zookeeper/config, "
            "ZooKeeper 3.5+): id, role, quorum and election address, client address; and "
            "the configuration's version.")
    command("whoami", cmd_whoami, "the identities the server gave this session",
            "List the identities the server gave this connection (ZooKeeper 3.7+): its "
            "address (ip), and digest, sasl or x509 identities from --auth-file / "
            "$ZOOKEEPER_AUTH or --cert; what the ACLs are checked against.")

    if shell is not None:
        command("shell", shell, "an interactive session: every command, tab completion of "
                "paths, history, cd/pwd, the connection state in the prompt")
    return parser
