"""Typed, frozen inventory records, one module per Azure area.

Fields are snake_case and hold values as Azure reported them; ``None`` means Azure did not report the
value, which checks must never read as compliant.
"""
