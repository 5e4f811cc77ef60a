"""Safe downloads of golden records, the crosswalk and lineage."""
