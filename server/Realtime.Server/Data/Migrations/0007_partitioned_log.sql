-- The log tables become partitioned by time (RANGE on `at`, one partition per UTC day), so
-- retention drops whole partitions instead of deleting rows (no vacuum debt, a few hundred bytes
-- of WAL instead of a record per row).
--
-- No row is copied or rewritten: each existing table is attached, as it is, as the partition
-- `<table>_legacy` covering everything before tomorrow (UTC); every row and seq stays where it
-- is. Retention drops it like any other partition once all of it is older than the retention
-- age. The daily partitions after it are created ahead by the nodes (Operations/LogPartitions.cs).
--
-- A primary key of a partitioned table must contain the partition key, hence (gid, seq, at)
-- and (app_id, user_id, seq, at). Their (gid, seq) / (app_id, user_id, seq) prefix serves every
-- read by seq. A seq stays unique because it is taken under its group's / user's row lock.
-- group_events has no foreign key to groups any more: detaching or dropping a partition that
-- has one takes a lock on `groups`, which every command writes.
DO $$
DECLARE
    cut timestamptz := (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC';
BEGIN
    ALTER TABLE group_events RENAME TO group_events_legacy;
    -- A partition has the parent's key, (gid, seq, at), built when it is attached.
    ALTER TABLE group_events_legacy DROP CONSTRAINT group_events_pkey;
    ALTER TABLE group_events_legacy DROP CONSTRAINT group_events_gid_fkey;
    DROP INDEX group_events_at;
    CREATE TABLE group_events (
        gid       bigint NOT NULL,
        seq       bigint NOT NULL,
        id        uuid NOT NULL,
        type      text NOT NULL,
        actor     text NULL,
        at        timestamptz NOT NULL,
        data      jsonb NOT NULL,
        PRIMARY KEY (gid, seq, at)
    ) PARTITION BY RANGE (at);
    EXECUTE format('ALTER TABLE group_events ATTACH PARTITION group_events_legacy FOR VALUES FROM (MINVALUE) TO (%L)', cut);

    ALTER TABLE system_messages RENAME TO system_messages_legacy;
    ALTER TABLE system_messages_legacy DROP CONSTRAINT system_messages_pkey;
    DROP INDEX system_messages_at;
    CREATE TABLE system_messages (
        app_id    text NOT NULL,
        user_id   text NOT NULL,
        seq       bigint NOT NULL,
        id        uuid NOT NULL,
        type      text NOT NULL,
        group_id  text NULL,
        actor     text NULL,
        at        timestamptz NOT NULL,
        data      jsonb NOT NULL,
        PRIMARY KEY (app_id, user_id, seq, at)
    ) PARTITION BY RANGE (at);
    EXECUTE format('ALTER TABLE system_messages ATTACH PARTITION system_messages_legacy FOR VALUES FROM (MINVALUE) TO (%L)', cut);
END
$$;
