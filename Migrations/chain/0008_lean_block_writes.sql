-- Lighter writes per block. Runs with search_path set to the chain's schema.
--
-- The references from a transaction to its block and from a write to its transaction are kept
-- by the only writer of these tables: one PostgreSQL transaction per block inserts the block,
-- then its transactions, then their writes, after checking the height and the first sequence
-- number against the head. As foreign keys they ran a trigger and an index probe for every row
-- (a sixth of PostgreSQL's work per committed transaction). `hanse audit` still checks every
-- block's transactions against its header.
ALTER TABLE transactions DROP CONSTRAINT transactions_height_fkey;
ALTER TABLE state_history DROP CONSTRAINT state_history_tx_seq_fkey;

-- A block value (whole proposals: signed bytes, signatures, keys) does not compress; stored
-- without trying, a block no longer costs a failed compression pass over a megabyte.
ALTER TABLE consensus_values ALTER COLUMN value SET STORAGE EXTERNAL;

-- The unique constraint on (height, tx_index, event_index) already has this index.
DROP INDEX events_by_height;

-- A key's next version is one more than its last write. A key absent from `state` was never
-- written, or its last write was a delete: its last version is that of its latest delete, which
-- this index (of deletes only, small) answers without searching every write of every key.
CREATE INDEX state_history_deletes ON state_history (contract, key, version) WHERE value IS NULL;
