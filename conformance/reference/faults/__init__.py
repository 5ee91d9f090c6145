"""The reference gateway's faults: switchable lies, each a real gateway bug class.

A fault is one class in an area module, holding its record (name, bug class, protocol, feature, the
routes it affects, the cases meant to catch it), its description (the docstring) and its behaviour: the
methods it plugs into the reference's seams.

* ``seams``: the named points of the reference where faults change a value, and what flows through each;
* ``fault``: the ``Fault`` base class, the ``@at(SEAM)`` marker, and ``ActiveFaults``, which applies them;
* ``registry``: ``FAULTS``, the check of fault names, and how to add a fault;
* the areas: ``requests``, ``routing``, ``responses``, ``usage``, ``errors``, ``streaming``, ``media``,
  ``tools`` and ``modes`` (JSON mode, safety, thinking).

The protocol handlers import only ``seams`` and ``fault``; nothing outside this package names a fault.
"""
