-- Device sign-in (Nextcloud's Login Flow v2): a client starts a flow, the person approves it in
-- the web app, and the client's next poll receives a new app password, made then (so it is never
-- stored). Only hashes of the two tokens are kept; a flow lasts 20 minutes.
CREATE TABLE login_flows (
    login_token_hash TEXT PRIMARY KEY NOT NULL,
    poll_token_hash  TEXT NOT NULL UNIQUE,
    client_name      TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    approved_by      TEXT REFERENCES users(id) ON DELETE CASCADE,
    approved_at      BIGINT
);
