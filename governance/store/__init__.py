"""The foundation: the DuckDB store, its frozen migrations, settings, errors and the standard schema."""
