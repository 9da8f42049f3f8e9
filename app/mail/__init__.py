"""Email: the outbox that services queue into, and the worker that delivers it.

Services call ``queue_email`` (a row in the change's own transaction); the worker
(``flask --app wsgi mail deliver``) claims, sends, retries and owns its commits.
"""

from app.mail.outbox import (
    EmailMerge,
    cli_origin,
    development_origin,
    external_url,
    one_line,
    queue_email,
)
from app.mail.worker import (
    BATCH_SIZE,
    CLAIM_SECONDS,
    MAX_ATTEMPTS,
    DeliveryInterrupted,
    DeliveryReport,
    Worker,
    claim_batch,
    deliver_pending,
    mark_sent,
    release,
)

__all__ = [
    "BATCH_SIZE",
    "CLAIM_SECONDS",
    "MAX_ATTEMPTS",
    "DeliveryInterrupted",
    "DeliveryReport",
    "EmailMerge",
    "Worker",
    "claim_batch",
    "cli_origin",
    "deliver_pending",
    "development_origin",
    "external_url",
    "mark_sent",
    "one_line",
    "queue_email",
    "release",
]
