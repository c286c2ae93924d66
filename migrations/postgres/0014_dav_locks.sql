-- WebDAV write locks (taina_ybira::dav::locks): on a file or folder (deep: everything in it),
-- until they lapse or are released. A lock that has lapsed is ignored and swept.
CREATE TABLE ybira.dav_locks (
    token        TEXT PRIMARY KEY NOT NULL,
    item_id      TEXT NOT NULL REFERENCES ybira.items(id) ON DELETE CASCADE,
    community_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    root_href    TEXT NOT NULL,
    depth        TEXT NOT NULL,
    scope        TEXT NOT NULL,
    owner        TEXT,
    timeout_secs BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX idx_dav_locks_item ON ybira.dav_locks (item_id);
