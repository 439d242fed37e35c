"""The service layer: pure Python over the Azure SDKs. Frozen dataclasses out; no UI imports."""

__version__ = "0.1.0"
