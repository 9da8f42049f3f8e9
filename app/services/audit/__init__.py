"""The audit trail: ``record`` writes one event per change in the change's own transaction;
``before_after`` narrows an update's snapshots to what changed; ``log`` reads, filters and
exports them."""

from app.services.audit.record import before_after, clean_label, event, record

__all__ = ["before_after", "clean_label", "event", "record"]
