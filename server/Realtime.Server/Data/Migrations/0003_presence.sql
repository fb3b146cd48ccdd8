-- Which terminals are online, on which node: offline push (SPEC §7) goes only to users with
-- none. A node that dies leaves rows behind; its stale heartbeat makes them count as offline.
CREATE TABLE nodes (
    node_id       text PRIMARY KEY,
    heartbeat_at  timestamptz NOT NULL
);

CREATE TABLE terminals (
    connection_id text PRIMARY KEY,
    app_id        text NOT NULL,
    user_id       text NOT NULL,
    device        text NOT NULL,
    node_id       text NOT NULL,
    connected_at  timestamptz NOT NULL
);
CREATE INDEX terminals_by_user ON terminals (app_id, user_id);
CREATE INDEX terminals_by_node ON terminals (node_id);
