"""Which model answers queries, and where each model's index of a collection lives.

A collection can be indexed by more than one model at once: while a model switch builds the new
model's indexes (the old one keeps serving), and after the flip while the old one is kept for a
rollback. Each (collection, model) pair is its own *index id* for the index layer (pointer,
manifests, replicas' held versions, signals): the collection id itself for the `base` model (the
one a deployment first served, so a deployment that never switched reads exactly as before), and
`{collection}@{model}` for any other. The vectors (`vectors/{cid}/{model}/`), tombstones, the
tombstone generation and the deleted marker stay the collection's, shared by all its indexes, so a
delete reaches every model's index at once.

The routing record (`index-state/model-routing.json`) is the one object a flip writes: gateways
read the serving model from it, so moving it is the atomic step that changes every collection's
model together. Without the record nothing was ever switched: the encoder's model serves, and
index ids are collection ids.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

from services.common.storage import ObjectNotFound, ObjectStore

ROUTING_KEY = "index-state/model-routing.json"
MODEL_SEP = "@"  # never in a collection id (`[A-Za-z0-9_-]+`), safe in object keys


def index_id(collection_id: str, model_version: str, base: str | None) -> str:
    """The index id of `collection_id`'s index for `model_version`."""
    if base is None or model_version == base:
        return collection_id
    return f"{collection_id}{MODEL_SEP}{model_version}"


def data_collection(index_or_collection_id: str) -> str:
    """The collection an index id belongs to (a collection id is its own)."""
    return index_or_collection_id.split(MODEL_SEP, 1)[0]


def model_of_index(index_or_collection_id: str) -> str | None:
    """The model an index id names, or None for the base model's (a plain collection id)."""
    _, sep, model = index_or_collection_id.partition(MODEL_SEP)
    return model if sep else None


class ModelRouting(BaseModel):
    """The deployment's models: the one serving, one being built, one kept for a rollback."""

    serving: str = Field(description="Model version whose indexes and encoder answer queries")
    base: str = Field(description="Model whose indexes carry the plain collection ids")
    target: str | None = Field(None, description="Model a switch in progress is building indexes for")
    previous: str | None = Field(None, description="Model served before the last flip, kept for rollback")
    updated_at: float = Field(default_factory=time.time)

    @property
    def embedded(self) -> list[str]:
        """Models every new image is embedded by: the serving one, then the one built or kept."""
        extra = [m for m in (self.target, self.previous) if m is not None and m != self.serving]
        return [self.serving, *dict.fromkeys(extra)]

    def index_id(self, collection_id: str, model_version: str | None = None) -> str:
        return index_id(collection_id, model_version or self.serving, self.base)

    def index_ids(self, collection_id: str) -> dict[str, str]:
        """Model version -> index id of every model `collection_id` is indexed by now."""
        return {mv: self.index_id(collection_id, mv) for mv in self.embedded}


def read_routing(store: ObjectStore) -> ModelRouting | None:
    """Blocking: the routing record, or None on a deployment that never switched models."""
    try:
        return ModelRouting.model_validate_json(store.get(ROUTING_KEY))
    except ObjectNotFound:
        return None


def write_routing(store: ObjectStore, routing: ModelRouting) -> None:
    """Blocking: one put, the atomic step of a switch, a flip or a rollback."""
    routing = routing.model_copy(update={"updated_at": time.time()})
    store.put(ROUTING_KEY, routing.model_dump_json().encode(), "application/json")


def serving_index_id(
    routing: ModelRouting | None, collection_id: str, model_version: str | None = None
) -> str:
    """The index id of the serving (or the named) model's index; the collection id without routing."""
    return routing.index_id(collection_id, model_version) if routing is not None else collection_id
