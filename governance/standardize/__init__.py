"""The standardize stage: pure, China-aware value normalizers (`normalizers`, with `regions` and
`names_data`), SQL fast paths (`fastpaths`), and the stage runner that owns std_records (`engine`)."""
