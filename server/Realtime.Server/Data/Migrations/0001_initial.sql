-- The whole data model of SPEC.md. Later migrations extend it; none edits an applied file.
-- Every row carries app_id: apps share one database and never see each other's rows.

-- Apps come from configuration; this row holds what must be counted under a lock.
CREATE TABLE apps (
    app_id        text PRIMARY KEY,
    group_count   bigint NOT NULL DEFAULT 0,          -- live groups, for the total quota
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Net group consumption per UTC day (SPEC §3 quota).
CREATE TABLE app_daily_quota (
    app_id        text NOT NULL REFERENCES apps(app_id),
    day           date NOT NULL,
    created       integer NOT NULL DEFAULT 0,
    dissolved     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, day)
);

-- A user row exists once a user is concerned by anything: it carries the per-user
-- system-message seq and the joined-group count, and is the row locked (in sorted order)
-- when a command changes a user's memberships.
CREATE TABLE users (
    app_id          text NOT NULL REFERENCES apps(app_id),
    user_id         text NOT NULL,
    last_seq        bigint NOT NULL DEFAULT 0,       -- last system-message seq
    trimmed_through bigint NOT NULL DEFAULT 0,       -- system messages <= this were deleted by retention
    joined_count    integer NOT NULL DEFAULT 0,      -- groups counted toward JoinedGroupLimit
    PRIMARY KEY (app_id, user_id)
);

-- gid is internal: a dissolved group keeps its row (its log stays readable by Sync) while
-- its public id may be taken again by a new group.
CREATE TABLE groups (
    gid                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id               text NOT NULL REFERENCES apps(app_id),
    group_id             text NOT NULL,
    type                 text NOT NULL,
    name                 text NOT NULL,
    introduction         text NOT NULL DEFAULT '',
    notification         text NOT NULL DEFAULT '',
    face_url             text NOT NULL DEFAULT '',
    owner_id             text NOT NULL,
    max_members          integer NULL,               -- NULL = unlimited
    apply_join_option    text NOT NULL,
    invite_option        text NOT NULL,
    invite_needs_confirm boolean NOT NULL DEFAULT false,
    mute_all             boolean NOT NULL DEFAULT false,
    disabled             boolean NOT NULL DEFAULT false,
    custom               text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL,
    last_modified        timestamptz NOT NULL,
    version              integer NOT NULL DEFAULT 1,
    member_count         integer NOT NULL DEFAULT 0,
    admin_count          integer NOT NULL DEFAULT 0,
    last_seq             bigint NOT NULL DEFAULT 0,
    trimmed_through      bigint NOT NULL DEFAULT 0,  -- events <= this were deleted by retention
    last_message_at      timestamptz NULL,
    dissolved_at         timestamptz NULL
);
CREATE UNIQUE INDEX groups_live_id ON groups (app_id, group_id) WHERE dissolved_at IS NULL;
CREATE INDEX groups_app_listing ON groups (app_id, gid) WHERE dissolved_at IS NULL;

CREATE TABLE group_members (
    gid              bigint NOT NULL REFERENCES groups(gid),
    app_id           text NOT NULL,
    user_id          text NOT NULL,
    role             text NOT NULL,                  -- Owner | Admin | Member
    joined_at        timestamptz NOT NULL,
    join_seq         bigint NOT NULL,                -- group seq when joining (JoinedGroup.joinSeq)
    last_message_at  timestamptz NULL,
    name_card        text NOT NULL DEFAULT '',
    muted_until      timestamptz NULL,
    msg_recv_option  text NOT NULL DEFAULT 'ReceiveAndNotify',
    custom           text NOT NULL DEFAULT '',
    PRIMARY KEY (gid, user_id)
);
CREATE INDEX group_members_by_user ON group_members (app_id, user_id);

-- A member's windows on a group's log: (from_seq, to_seq]. to_seq NULL while a member.
-- Sync serves only events inside a window, so nothing after a removal leaks (SPEC §5.4).
CREATE TABLE member_windows (
    gid        bigint NOT NULL REFERENCES groups(gid),
    app_id     text NOT NULL,
    user_id    text NOT NULL,
    from_seq   bigint NOT NULL,
    to_seq     bigint NULL,
    PRIMARY KEY (gid, user_id, from_seq)
);
CREATE INDEX member_windows_by_user ON member_windows (app_id, user_id);

CREATE TABLE pending_items (
    pending_id  uuid PRIMARY KEY,
    app_id      text NOT NULL,
    gid         bigint NOT NULL REFERENCES groups(gid),
    type        text NOT NULL,                       -- JoinRequest | Invitation
    from_user   text NOT NULL,
    to_user     text NULL,
    message     text NOT NULL DEFAULT '',
    status      text NOT NULL,                       -- Pending | Approved | Rejected | Expired | Canceled
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    handled_by  text NULL,
    handled_at  timestamptz NULL,
    reason      text NULL
);
CREATE INDEX pending_items_group ON pending_items (gid, status);
CREATE INDEX pending_items_from ON pending_items (app_id, from_user, created_at);
CREATE INDEX pending_items_to ON pending_items (app_id, to_user, created_at);

CREATE TABLE group_blocklist (
    gid       bigint NOT NULL REFERENCES groups(gid),
    user_id   text NOT NULL,
    added_at  timestamptz NOT NULL,
    PRIMARY KEY (gid, user_id)
);

CREATE TABLE group_allowlist (
    gid       bigint NOT NULL REFERENCES groups(gid),
    user_id   text NOT NULL,
    added_at  timestamptz NOT NULL,
    PRIMARY KEY (gid, user_id)
);

-- Per-user system messages: one row per recipient, gapless seq per user (users.last_seq).
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
    PRIMARY KEY (app_id, user_id, seq)
);
CREATE INDEX system_messages_at ON system_messages (at);

-- Per-group events: one row per event whatever the group's size (SPEC §5.5).
CREATE TABLE group_events (
    gid       bigint NOT NULL REFERENCES groups(gid),
    seq       bigint NOT NULL,
    id        uuid NOT NULL,
    type      text NOT NULL,
    actor     text NULL,
    at        timestamptz NOT NULL,
    data      jsonb NOT NULL,
    PRIMARY KEY (gid, seq)
);
CREATE INDEX group_events_at ON group_events (at);

-- requestId → first response, for 24 h. The row is inserted first in the command's
-- transaction, so a concurrent retry waits on it and then reads the stored response.
CREATE TABLE idempotency_keys (
    app_id      text NOT NULL,
    user_id     text NOT NULL,
    request_id  text NOT NULL,
    method      text NOT NULL,
    response    jsonb NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (app_id, user_id, request_id)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- After-callbacks and offline pushes, written in the command's transaction and delivered
-- by a background worker (claimed with FOR UPDATE SKIP LOCKED).
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id          text NOT NULL,
    kind            text NOT NULL,                   -- Callback | Push
    delivery_id     uuid NOT NULL UNIQUE,
    payload         jsonb NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz NULL,
    failed_at       timestamptz NULL,
    last_error      text NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
