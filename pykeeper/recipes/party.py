"""`Party` and `ShallowParty`: who is here, as ephemeral nodes.

    party = client.Party("/app/workers", identifier="host-3")
    party.join()
    list(party), len(party)      # (asyncio: await party.members(), await party.count())
    party.leave()

kazoo's layouts, so kazoo and pykeeper members see each other: a Party
member is an ephemeral child `<uuid>__party__` holding its identifier; a
ShallowParty member's identifier is in its name, `<uuid>-<identifier>`
(one round trip to list, but the identifier must be a valid node name).
Membership is a hold: listeners hear "suspended", "reconnected" and "lost"
(the session ended and took the node with it; join() again to return).
"""

from __future__ import annotations

import uuid
from typing import Iterator, List, Optional

from ..core.paths import validate_path
from ..core.steps import Helper, HelperClient
from ..protocol.records import CreateFlags
from .base import Recipe, children_of, create_owned, delete_if_there, ensure_path, identifiers

__all__ = ["PartyBase", "Party", "ShallowParty"]


class PartyBase(Recipe):
    """What the party fronts share: joining, leaving and listing."""

    _NODE_NAME = "__party__"
    _SHALLOW = False  # the identifier in the node's name, not its data

    def __init__(self, client: HelperClient, path: str, identifier: Optional[str] = None
                 ) -> None:
        super().__init__(client, path)
        if identifier is not None and not isinstance(identifier, str):
            raise TypeError(f"identifier must be a str or None, not {identifier!r}")
        self.identifier = identifier or ""
        self.data = self.identifier.encode("utf-8")
        if self._SHALLOW and "/" in self.identifier:
            raise ValueError(f"a ShallowParty identifier is part of a node name: no '/' in "
                             f"{identifier!r}")
        self.node = self._node_name()
        validate_path(f"{path}/{self.node}", "the member's node (from the identifier)")
        self.participating = False

    def _node_name(self) -> str:
        if self._SHALLOW:
            return f"{uuid.uuid4().hex}-{self.identifier}"
        return uuid.uuid4().hex + self._NODE_NAME

    def _hold_lost(self) -> None:
        self.participating = False

    def _join(self) -> "Helper[None]":
        yield from ensure_path(self.path)
        # (A second join cancelled in flight keeps the membership the first made.)
        yield from create_owned(f"{self.path}/{self.node}", self.data,
                                int(CreateFlags.EPHEMERAL), undo=not self.participating)
        self.participating = True
        self._take_hold()

    def _leave(self) -> "Helper[bool]":
        self.participating = False
        self._drop_hold()
        self._untrack()
        return (yield from delete_if_there(f"{self.path}/{self.node}"))

    def _count(self) -> "Helper[int]":
        return len((yield from self._members()))

    def _members(self) -> "Helper[List[str]]":
        children = sorted((yield from children_of(self.path)))
        if self._SHALLOW:
            return [child[child.find("-") + 1:] for child in children]
        return (yield from identifiers(self.path, [c for c in children if self._NODE_NAME in c]))


class Party(PartyBase):
    """A party whose members' identifiers are their nodes' data. See the
    module docstring. Each call is a round trip (listing: one per member)."""

    def join(self) -> None:
        """Join (make this member's ephemeral node; joining twice is one membership)."""
        self._run_sync(self._join())

    def leave(self) -> bool:
        """Leave: True if this member was in the party."""
        return self._run_sync(self._leave())

    def members(self) -> List[str]:
        """The members' identifiers (sorted by node name)."""
        return self._run_sync(self._members())

    def count(self) -> int:
        """How many members there are."""
        return self._run_sync(self._count())

    def __iter__(self) -> Iterator[str]:
        return iter(self._run_sync(self._members()))

    def __len__(self) -> int:
        return self._run_sync(self._count())


class ShallowParty(Party):
    """A party whose members' identifiers are in their nodes' names (one
    round trip to list). See the module docstring."""

    _SHALLOW = True
