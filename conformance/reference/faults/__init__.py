"""The reference gateway's faults: switchable lies, each a real gateway bug class."""
