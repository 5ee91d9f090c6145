"""Official SDK probes: what users' code experiences through Google's ``google-genai`` and the ``openai`` SDK.

A case step whose request names an SDK (``sdk: google-genai``, ``call: models.generate_content``,
``args: {...}``) is run here instead of being sent as raw HTTP: the SDK's async client is pointed at the
provider's route and called, and what it returned or raised becomes the step's exchange, judged by the
``sdk`` check and the rest of the vocabulary. The SDKs are the optional ``sdk`` extra; without it (or
when a profile's route is one the SDK cannot be pointed at) such cases are skipped with the reason.

* ``clients``: whether each SDK is installed, and how it is pointed at a route (or why it cannot be);
* ``calls``: the calls probes make, and how arguments and results cross between JSON and the SDK's types;
* ``probe``: one probe step end to end, bounded by the provider's timeouts, as a ``ProbeExchange``.
"""
