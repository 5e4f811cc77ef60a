"""PIPL compliance: consent, data-subject requests, erasure, suppression, retention, record of processing."""
