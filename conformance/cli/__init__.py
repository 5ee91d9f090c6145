"""The ``conformance`` command."""
