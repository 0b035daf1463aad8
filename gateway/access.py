"""Who may do what: API key roles, the caller of a request, and which collections it sees.

`GATEWAY_API_KEYS` entries are `read:KEY`, `write:KEY`, `admin:KEY` or a plain `KEY`
(an admin, as every key was before roles existed). A collection belongs to the key that
created it (its owner is the key's id, a hash, never the key) or, with no owner, is shared
with every key: created by an admin with `shared: true`, created while auth was off, or
created before collections had owners.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from enum import StrEnum

from services.common.catalog import Catalog, CollectionRecord
from services.common.errors import ApiError


class Role(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class Permission(StrEnum):
    SEARCH = "search"
    READ = "read"
    CREATE = "create"  # new collections (shared ones: admin only)
    UPLOAD = "upload"  # into collections the key owns
    EDIT = "edit"  # albums, tags and notes of collections the key owns
    DELETE = "delete"  # collections and images the key owns
    IMPORT = "import"  # server folders and s3:// prefixes
    ALL_COLLECTIONS = "all_collections"  # see and change every collection, share new ones
    MANAGE_MODELS = "manage_models"  # switch the deployment's model, roll it back


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.READ: frozenset({Permission.SEARCH, Permission.READ}),
    Role.WRITE: frozenset(
        {
            Permission.SEARCH,
            Permission.READ,
            Permission.CREATE,
            Permission.UPLOAD,
            Permission.EDIT,
            Permission.DELETE,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}
_ROLE_NAMES = frozenset(r.value for r in Role)


def key_id(key: str) -> str:
    """A key's public identity: collections record it as their owner, rate limits count by it."""
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]


def parse_api_keys(entries: list[str]) -> dict[str, Role]:
    """`role:KEY` or a plain `KEY` (admin) → {key: role}; a key listed twice or empty is refused."""
    keys: dict[str, Role] = {}
    for entry in entries:
        prefix, sep, rest = entry.partition(":")
        role, key = (Role(prefix), rest) if sep and prefix in _ROLE_NAMES else (Role.ADMIN, entry)
        if not key.strip():
            raise ValueError(f"an API key entry has an empty key: {prefix}:")
        if key in keys:
            raise ValueError(f"an API key is listed twice (key id {key_id(key)})")
        keys[key] = role
    return keys


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request."""

    id: str  # key id, or `ip:ADDRESS` when auth is off
    role: Role
    signed: bool = False  # a signed image URL: valid for that one path, no key sent

    @property
    def permissions(self) -> frozenset[Permission]:
        return PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """403 when the key's role does not allow `permission`."""
        if permission not in self.permissions:
            raise ApiError(
                403,
                "forbidden",
                f"An API key with the role {self.role.value!r} may not {permission.value}.",
                {"role": self.role.value, "permission": permission.value},
            )

    @property
    def sees_all(self) -> bool:
        return Permission.ALL_COLLECTIONS in self.permissions

    def sees(self, record: CollectionRecord) -> bool:
        return self.sees_all or record.owner in (None, self.id)

    def owns(self, record: CollectionRecord) -> bool:
        """May change the collection: its owner, or an admin."""
        return self.sees_all or record.owner == self.id


class CollectionDirectory:
    """Which collections a caller sees, asked of the catalog every time: one indexed query, so no
    listing is cached (a cached one hid a collection created a moment ago from searches over all)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    async def sees(self, caller: Caller, collection_id: str) -> bool:
        if caller.sees_all:
            return True
        record = await asyncio.to_thread(self.catalog.get_collection, collection_id)
        return record is not None and caller.sees(record)

    async def unseen(self, caller: Caller, collection_ids: list[str]) -> list[str]:
        """Those of `collection_ids` the caller does not see, or that do not exist; one query."""
        viewer = None if caller.sees_all else caller.id
        visible = set(await asyncio.to_thread(self.catalog.collection_ids, viewer))
        return [cid for cid in collection_ids if cid not in visible]

    async def scope(self, caller: Caller) -> tuple[str, ...] | None:
        """What a search over "all collections" covers for `caller` (None: everything)."""
        if caller.sees_all:
            return None
        return tuple(await asyncio.to_thread(self.catalog.collection_ids, caller.id))
