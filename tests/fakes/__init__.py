"""In-process fake provider servers (Twilio, Telegram) that the real client libraries talk to."""
