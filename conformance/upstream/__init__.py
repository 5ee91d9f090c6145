"""The suite's upstream: the suite plays the gateway's Google, records what the gateway forwards, and answers.

In a two-sided run the gateway under test is configured with the upstream's base URL as its Google base
URL. Every request the suite sends carries a correlation tag in its prompt text; the upstream records each
request that reaches it, attributes it by its tag to the case, attempt and step that caused it, removes the
tag, and answers with the reference's protocol code and deterministic model, or as the step's scenario says
(a 429, a blocked prompt, a stream that breaks off...).

* ``correlation``: the tag, how it is put into a request and found and removed again;
* ``canonical``: a forwarded body as Google reads it (lowerCamelCase keys), which upstream checks judge;
* ``ledger``: the forwarded requests, the attempts that caused them, and what checks know of the upstream;
* ``scenarios``: how the upstream answers a request that names a scenario;
* ``app``: the upstream's ASGI application (recording, then the reference's native handlers);
* ``server``: running it on a loopback address.
"""
