"""Azure security posture auditor: proves an estate keeps the promises of its security policy."""

__version__ = "0.1.0"
