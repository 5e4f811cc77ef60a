-- 9: masking policies per sensitivity class and role
-- Frozen: never edit a shipped migration; add a new one.

CREATE TABLE masking_policies (
    sensitivity_class VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    keep_start INTEGER,
    keep_end INTEGER,
    updated_by VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (sensitivity_class, role));

INSERT INTO masking_policies VALUES ('name', 'admin', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('name', 'steward', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('name', 'analyst', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('nickname', 'admin', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('nickname', 'steward', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('nickname', 'analyst', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('mobile', 'admin', 'partial', 3, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('mobile', 'steward', 'partial', 3, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('mobile', 'analyst', 'partial', 3, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('landline', 'admin', 'partial', 4, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('landline', 'steward', 'partial', 4, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('landline', 'analyst', 'partial', 4, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('email', 'admin', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('email', 'steward', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('email', 'analyst', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('id_card', 'admin', 'partial', 6, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('id_card', 'steward', 'partial', 6, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('id_card', 'analyst', 'partial', 6, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('gender', 'admin', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('gender', 'steward', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('gender', 'analyst', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('birth_date', 'admin', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('birth_date', 'steward', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('birth_date', 'analyst', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('address', 'admin', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('address', 'steward', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('address', 'analyst', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('wechat_id', 'admin', 'partial', 4, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('wechat_id', 'steward', 'partial', 4, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('wechat_id', 'analyst', 'partial', 4, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('platform_account', 'admin', 'partial', 4, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('platform_account', 'steward', 'partial', 4, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('platform_account', 'analyst', 'partial', 4, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('member_card', 'admin', 'partial', 4, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('member_card', 'steward', 'partial', 4, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('member_card', 'analyst', 'partial', 4, 4, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('other', 'admin', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('other', 'steward', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);

INSERT INTO masking_policies VALUES ('other', 'analyst', 'partial', NULL, NULL, 'system', now()::TIMESTAMP);
