-- The per-chain template: applied into schema chain_<id> when a chain is provisioned, with
-- search_path set to that schema. The ledger tables (blocks, transactions, state, history,
-- events, Merkle nodes) follow in later files.

CREATE TABLE chain_info (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    chain_id   uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
