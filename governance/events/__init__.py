"""Purchase and order events: the event fields of mapped rows, parsed into `std_events`."""
