"""Tags: the governed tag library, source tag mappings, customer tag values computed as of a date, tag
health and the governance scorecard."""
