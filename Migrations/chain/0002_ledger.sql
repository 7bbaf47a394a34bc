-- The ledger of one chain: blocks, transactions with receipts, current state and its history,
-- events, and the stored Merkle tree of every committed transaction id. Runs with search_path
-- set to the chain's schema. Limits mirror Limits.swift.

CREATE TABLE blocks (
    height             bigint PRIMARY KEY CHECK (height >= 0),
    hash               bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
    previous_hash      bytea NOT NULL CHECK (length(previous_hash) = 32),
    tx_root            bytea NOT NULL CHECK (length(tx_root) = 32),
    write_set_root     bytea NOT NULL CHECK (length(write_set_root) = 32),
    ledger_root        bytea NOT NULL CHECK (length(ledger_root) = 32),
    ledger_size        bigint NOT NULL CHECK (ledger_size >= 0),
    timestamp_ms       bigint NOT NULL CHECK (timestamp_ms >= 0),
    proposer           integer NOT NULL CHECK (proposer BETWEEN 0 AND 99),
    validator_set_hash bytea NOT NULL CHECK (length(validator_set_hash) = 32),
    -- The commit certificate as JSON: {round, signatures: [{validator, signature}]}.
    certificate        jsonb NOT NULL CHECK (pg_column_size(certificate) <= 65536),
    committed_at       timestamptz NOT NULL DEFAULT now()
);

-- Every committed transaction, in ledger order: seq is its leaf index in the ledger tree.
CREATE TABLE transactions (
    seq            bigint PRIMARY KEY CHECK (seq >= 0),
    tx_id          bytea NOT NULL UNIQUE CHECK (length(tx_id) = 32),
    height         bigint NOT NULL REFERENCES blocks (height),
    index_in_block integer NOT NULL CHECK (index_in_block >= 0),
    contract       text NOT NULL CHECK (length(contract) BETWEEN 1 AND 64),
    method         text NOT NULL CHECK (length(method) BETWEEN 1 AND 64),
    signed_bytes   bytea NOT NULL CHECK (length(signed_bytes) <= 70000),
    signature      bytea NOT NULL CHECK (length(signature) = 64),
    status         text NOT NULL CHECK (status IN ('committed', 'failed')),
    gas_used       bigint NOT NULL DEFAULT 0 CHECK (gas_used >= 0),
    result         bytea CHECK (length(result) <= 65536),
    error          text CHECK (length(error) <= 4096),
    UNIQUE (height, index_in_block)
);

CREATE TABLE state (
    contract       text NOT NULL CHECK (length(contract) BETWEEN 1 AND 64),
    key            bytea NOT NULL CHECK (length(key) BETWEEN 1 AND 1024),
    value          bytea NOT NULL CHECK (length(value) <= 1048576),
    version        bigint NOT NULL CHECK (version >= 1),
    updated_height bigint NOT NULL,
    PRIMARY KEY (contract, key)
);

-- Every write, for key history and traceability; a delete has a NULL value.
CREATE TABLE state_history (
    contract text NOT NULL,
    key      bytea NOT NULL,
    version  bigint NOT NULL CHECK (version >= 1),
    value    bytea CHECK (length(value) <= 1048576),
    tx_seq   bigint NOT NULL REFERENCES transactions (seq),
    height   bigint NOT NULL,
    PRIMARY KEY (contract, key, version)
);

CREATE TABLE events (
    seq         bigint PRIMARY KEY CHECK (seq >= 0),
    height      bigint NOT NULL,
    tx_index    integer NOT NULL,
    event_index integer NOT NULL CHECK (event_index >= 0),
    contract    text NOT NULL CHECK (length(contract) BETWEEN 1 AND 64),
    topic       text NOT NULL CHECK (length(topic) BETWEEN 1 AND 128),
    data        bytea NOT NULL CHECK (length(data) <= 65536),
    UNIQUE (height, tx_index, event_index)
);
CREATE INDEX events_by_contract_topic ON events (contract, topic, seq);

-- Perfect subtrees of the ledger tree: node (level, idx) covers leaves
-- [idx * 2^level, (idx + 1) * 2^level); level 0 holds the leaf hashes of the tx ids.
CREATE TABLE merkle_nodes (
    level smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx   bigint NOT NULL CHECK (idx >= 0),
    hash  bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
);
