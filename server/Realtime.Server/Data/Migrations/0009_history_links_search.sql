-- History, invite links and search (SPEC §9). Depends only on 0001-0007 (0008 is another feature's).

-- Trigram indexes for substring search (pg_trgm ships with Debian's postgresql-15; trusted, so the
-- database owner may create it). btree_gin lets one GIN index hold a group id beside the trigrams.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- GetMessages pages backwards through a group's Message events only: without this index a page
-- deep in a group full of other events would walk past them. Created on the partitioned parent,
-- so every daily partition (present and future) gets its own.
CREATE INDEX group_events_messages ON group_events (gid, seq) WHERE type = 'Message';

-- SearchGroups: what SearchGroup shows non-members (live, not Private, not disabled). Prefix
-- matches come from the btree (a range on the lowered name in byte order, which is also the
-- order answered), substrings from the trigram index. The btree carries the name itself, so a
-- query too short for trigrams (1-2 letters) that matches rarely is an index-only walk, not a
-- heap fetch per group.
CREATE INDEX groups_search_prefix ON groups (app_id, (lower(name) COLLATE "C"), gid) INCLUDE (name)
    WHERE dissolved_at IS NULL AND type <> 'Private' AND NOT disabled;
CREATE INDEX groups_search_trgm ON groups USING gin (lower(name) gin_trgm_ops)
    WHERE dissolved_at IS NULL AND type <> 'Private' AND NOT disabled;

-- SearchMembers: userId prefix (btree on the lowered id) and nameCard substring (trigrams,
-- per group thanks to btree_gin), so neither scans a big group's members.
CREATE INDEX group_members_search_id ON group_members (gid, (lower(user_id) COLLATE "C"));
CREATE INDEX group_members_search_card ON group_members USING gin (gid, lower(name_card) gin_trgm_ops);

-- Invite links. The code is the key: at least 128 random bits, unique across apps, and looked
-- up with its app. uses counts the joins (and join requests) it admitted, under the group's lock.
CREATE TABLE invite_links (
    code            text PRIMARY KEY,
    app_id          text NOT NULL,
    gid             bigint NOT NULL REFERENCES groups(gid),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    max_uses        integer NULL,                    -- NULL = unlimited
    uses            integer NOT NULL DEFAULT 0,
    needs_approval  boolean NOT NULL DEFAULT false,
    revoked_at      timestamptz NULL,
    CHECK (max_uses IS NULL OR uses <= max_uses)
);
CREATE INDEX invite_links_group ON invite_links (gid, created_at);

-- A join request made through a link remembers the link's creator: approved, it joins with them as inviter.
ALTER TABLE pending_items ADD COLUMN inviter text NULL;
