-- Keep the order of writes within a transaction and of events, so that the block's write-set root
-- (receipts, writes, events; docs/ledger.md) can be recomputed from the rows alone.
ALTER TABLE state_history ADD COLUMN write_index integer NOT NULL CHECK (write_index >= 0);
ALTER TABLE state_history ADD CONSTRAINT state_history_write_order UNIQUE (tx_seq, write_index);
CREATE INDEX events_by_height ON events (height, tx_index, event_index);
