-- Web Push subscriptions (SPEC §7): one row per browser subscription, per app and user. An endpoint
-- belongs to one user of an app at a time (registering it elsewhere moves it: a new row, a new id).
-- Pushes to them are outbox rows of kind 'WebPush' that name the row by id and user, fanned out from
-- a 'Push' row when it is delivered; the outbox itself is unchanged.
CREATE TABLE push_subscriptions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id      text NOT NULL REFERENCES apps(app_id),
    user_id     text NOT NULL,
    endpoint    text NOT NULL,
    p256dh      text NOT NULL,
    auth        text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (app_id, endpoint)
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (app_id, user_id);
