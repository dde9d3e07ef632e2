"""RoleIndex: normalised role name -> citizens holding it, from the citizen store.

The store keeps no role lookup, so this index is built by one pass over the store and
reused until the store's ``seq`` moves (one feed page) or the store object is swapped.
"""

from __future__ import annotations

from convene_matcher.citizens.store import CitizenStore
from convene_matcher.routing.names import role_key


class RoleIndex:
    def __init__(self, holders: dict[str, frozenset[str]], *, store_id: int, seq: int) -> None:
        self._holders = holders
        self.store_id = store_id
        self.seq = seq

    @classmethod
    def build(cls, store: CitizenStore) -> RoleIndex:
        holders: dict[str, set[str]] = {}
        for citizen_id, record in store.citizens():
            for role in record.snapshot.roles:
                for name in (role.role, role.label):
                    if name:
                        holders.setdefault(role_key(name), set()).add(citizen_id)
        return cls(
            {key: frozenset(ids) for key, ids in holders.items()},
            store_id=id(store),
            seq=store.seq,
        )

    def holders(self, role: str) -> frozenset[str]:
        return self._holders.get(role_key(role), frozenset())

    def knows(self, role: str) -> bool:
        return role_key(role) in self._holders


class RoleIndexCache:
    def __init__(self) -> None:
        self._index: RoleIndex | None = None

    def get(self, store: CitizenStore) -> RoleIndex:
        index = self._index
        if index is None or index.store_id != id(store) or index.seq != store.seq:
            index = RoleIndex.build(store)
            self._index = index
        return index
