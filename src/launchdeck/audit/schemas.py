import datetime
from typing import Any

from ninja import Schema


class AuditEventOut(Schema):
    id: int
    occurred_at: datetime.datetime
    actor: str
    source: str
    request_id: str
    event_type: str
    object_type: str
    object_id: str
    object_repr: str
    old_data: Any = None
    new_data: Any = None
    reason: str

    @staticmethod
    def resolve_actor(obj) -> str:
        return obj.actor_name
