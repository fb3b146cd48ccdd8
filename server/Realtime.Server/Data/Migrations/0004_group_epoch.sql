-- A group's epoch (SPEC §4): an opaque string that differs between incarnations of one group
-- id (dissolved, then created again), so a Sync cursor never runs on into the next group.
-- 128 random bits as 32 lowercase hex chars (URL-safe), never derived from gid. The default
-- is volatile, so ADD COLUMN evaluates it per row: every existing incarnation gets its own.
-- New rows get theirs from the insert (GroupEpoch.New); the default covers any other writer.
ALTER TABLE groups ADD COLUMN epoch text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '');
