"""PIPL compliance: masking, consent, data-subject requests, erasure, suppression, retention, record of processing."""
