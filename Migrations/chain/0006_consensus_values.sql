-- Proposed block values referenced by the consensus write-ahead log. A value (up to the block
-- size) is stored once per height by its SHA-256; each validator's logged state names it by hash
-- instead of repeating it at every step. Rows below the committed height are pruned.
CREATE TABLE consensus_values (
    height bigint NOT NULL CHECK (height >= 0),
    hash   bytea NOT NULL CHECK (length(hash) = 32),
    value  bytea NOT NULL CHECK (length(value) <= 25165824),
    PRIMARY KEY (height, hash)
);
