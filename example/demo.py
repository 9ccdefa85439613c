"""`make demo`: start a real ZooKeeper server on a free local port, then run
the README's example session against it, printing every step."""

from __future__ import annotations

import doctest
import pathlib
import sys

from pykeeper.testing import ZooKeeperServer

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def main() -> int:
    with ZooKeeperServer() as server:
        print(f"ZooKeeper server up at {server.hosts}")
        print(server.four_letter("srvr").splitlines()[0])
        print(f"running the example session of {README.name} against it\n")
        result = doctest.testfile(str(README), module_relative=False, verbose=True,
                                  globs={"hosts": server.hosts},
                                  optionflags=doctest.ELLIPSIS)
    print(f"\n{result.attempted - result.failed} of {result.attempted} steps as the README says")
    return 1 if result.failed or not result.attempted else 0


if __name__ == "__main__":
    sys.exit(main())
