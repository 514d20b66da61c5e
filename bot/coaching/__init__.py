"""Coaching: crisis response, escalations, takeover and hand-back, coach accounts and audit."""
