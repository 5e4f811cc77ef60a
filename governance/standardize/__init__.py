"""The standardize stage: pure value normalizers (``normalizers``) and the stage runner (``engine``).

The public normalizer API is re-exported here lazily, so importing the package stays cheap.
"""
from __future__ import annotations

_EXPORTS = ("STATUSES", "Result", "PLACEHOLDERS", "NORMALIZERS", "REASONS", "prenormalize",
            "normalize_text", "normalize_mobile", "normalize_landline", "normalize_id_card",
            "normalize_email", "normalize_name", "normalize_family_name", "normalize_given_name",
            "normalize_gender", "normalize_date", "normalize_timestamp", "normalize_address",
            "normalize_province", "normalize_city", "normalize_district", "normalize_postcode",
            "normalize_channel_id", "normalize_boolean")

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        from governance.standardize import normalizers
        return getattr(normalizers, name)
    raise AttributeError(f"module 'governance.standardize' has no attribute {name!r}")
