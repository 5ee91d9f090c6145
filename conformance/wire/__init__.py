"""Talking to a gateway: provider profiles, the target, transport, exchanges, retries and redaction."""
