"""The SMTP test server fixture speaks real SMTP (the email work builds on it)."""

import smtplib
from email.message import EmailMessage


def test_smtp_server_receives_a_real_message(smtp_server):
    message = EmailMessage()
    message["From"] = "tenantry@example.com"
    message["To"] = "someone@example.com"
    message["Subject"] = "Hello"
    message.set_content("Plain text body")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        client.send_message(message)
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["Subject"] == "Hello"
    assert smtp_server.envelopes == [("tenantry@example.com", ["someone@example.com"])]
