-- The consensus write-ahead log: each hosted validator's persisted state (Consensus.HardState as
-- JSON), written before any message of the same step leaves the node, so a restarted validator
-- never signs two different votes for one round and step and keeps its lock.
CREATE TABLE consensus_wal (
    validator  integer PRIMARY KEY CHECK (validator BETWEEN 0 AND 99),
    height     bigint NOT NULL CHECK (height >= 0),
    state      jsonb NOT NULL CHECK (pg_column_size(state) <= 67108864),
    updated_at timestamptz NOT NULL DEFAULT now()
);
