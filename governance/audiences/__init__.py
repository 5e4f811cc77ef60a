"""Audiences: rules, members with their mandatory exclusions, saved audiences, activation files and pushes."""
