-- 11: check values of the secrets that stored data depends on
-- Frozen: never edit a shipped migration; add a new one.

CREATE TABLE secret_checks (name VARCHAR PRIMARY KEY, check_value VARCHAR NOT NULL, recorded_at TIMESTAMP NOT NULL);
