-- Group state (SPEC §9): attributes, counters, read cursors with unread and read counts, and
-- the node lease that makes online counts exact.

-- Attributes and counters of a group incarnation (by gid: a group that reuses a dissolved id
-- starts empty). Written under the group's row lock; at most 32 attributes of ≤ 16 KiB and 20
-- counters, so one small row per group, rewritten whole.
CREATE TABLE group_state (
    gid         bigint PRIMARY KEY REFERENCES groups(gid),
    attributes  jsonb NOT NULL DEFAULT '{}',   -- { key: { "value": text, "version": n } }
    counters    jsonb NOT NULL DEFAULT '{}'    -- { key: int64 }
);

-- Unread counts without counting the log: the group counts its Message events, and each member
-- keeps how many of them lie at or before its cursor (read_msgs) and how many of its own lie
-- after it (sent_after_read). unread = msg_count - read_msgs - sent_after_read.
ALTER TABLE groups ADD COLUMN msg_count bigint NOT NULL DEFAULT 0;
ALTER TABLE group_members
    ADD COLUMN last_read_seq   bigint NOT NULL DEFAULT 0,
    ADD COLUMN read_msgs       bigint NOT NULL DEFAULT 0,
    ADD COLUMN sent_after_read bigint NOT NULL DEFAULT 0,
    ADD COLUMN last_sent_seq   bigint NOT NULL DEFAULT 0;

-- Existing groups: the messages still in the log are counted; existing members start with
-- everything before the upgrade read (a cursor at the group's last seq).
UPDATE groups g SET msg_count = x.n
FROM (SELECT gid, count(*) AS n FROM group_events WHERE type = 'Message' GROUP BY gid) x
WHERE g.gid = x.gid;
UPDATE group_members m SET last_read_seq = g.last_seq, read_msgs = g.msg_count FROM groups g WHERE g.gid = m.gid;

-- GetReadCount / GetReadMembers: an index range on (gid, cursor), never a scan of the log.
CREATE INDEX group_members_read ON group_members (gid, last_read_seq);

-- A node's lease: its terminals count as online only while lease_until is ahead of the
-- database clock (renewed every third of the lease); a node that stops, however, is offline
-- within one lease without anyone cleaning up after it.
ALTER TABLE nodes ADD COLUMN lease_until timestamptz NOT NULL DEFAULT '-infinity';
