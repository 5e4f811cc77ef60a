"""Sources: file readers, ingest, field mapping and the source catalogue."""
