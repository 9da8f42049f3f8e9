"""The audit trail: ``record`` writes one event per change in the change's own
transaction; ``log`` reads, filters and exports them."""

from app.services.audit.record import clean_label, record

__all__ = ["clean_label", "record"]
