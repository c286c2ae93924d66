-- App passwords: one per device, for WebDAV, desktop sync and scripts (HTTP Basic or a bearer
-- token). Only the SHA-256 of the canonical password is kept (taina_core::app_password).
CREATE TABLE app_passwords (
    id           TEXT PRIMARY KEY NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX idx_app_passwords_user ON app_passwords (user_id);
