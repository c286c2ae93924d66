-- Ybira: files and folders in one tree, deduplicated content, versions, shares and uploads in flight.

-- Stored content: one row per distinct content (SHA-256) in a community, counted by the files and
-- versions that refer to it. The community's storage use is the sum of these sizes plus the
-- reservations of uploads in flight; a blob is charged once however many files refer to it.
CREATE TABLE blobs (
    id           TEXT PRIMARY KEY NOT NULL,
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    sha256       TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    mime_type    TEXT NOT NULL,
    path         TEXT NOT NULL UNIQUE,
    ref_count    BIGINT NOT NULL,
    missing_at   BIGINT,
    created_at   BIGINT NOT NULL,
    UNIQUE (community_id, sha256)
);

-- Files and folders. `space_owner_id` is the owner of the private space the item is in (NULL: the
-- shared space); `parent_key` is the parent folder's id or the root of the space, and names are
-- unique per parent_key ignoring case (`name_key`) among items not in the trash; listings
-- page through `sort_key` (folders first, then files, each by name_key). Deleting puts the
-- whole subtree in the trash: every item gets `deleted_at`, and `trash_id` names the item the person
-- deleted, so restoring it brings back exactly what went with it.
CREATE TABLE items (
    id             TEXT PRIMARY KEY NOT NULL,
    community_id   TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('folder', 'file')),
    space_owner_id TEXT REFERENCES users(id),
    parent_id      TEXT REFERENCES items(id) ON DELETE CASCADE,
    parent_key     TEXT NOT NULL,
    owner_id       TEXT REFERENCES users(id) ON DELETE SET NULL,
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    sort_key       TEXT NOT NULL,
    blob_id        TEXT REFERENCES blobs(id),
    size_bytes     BIGINT NOT NULL DEFAULT 0,
    mime_type      TEXT,
    revision       BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    deleted_at     BIGINT,
    trash_id       TEXT
);
CREATE UNIQUE INDEX idx_items_name ON items (parent_key, name_key) WHERE deleted_at IS NULL;
CREATE INDEX idx_items_listing ON items (parent_key, sort_key) WHERE deleted_at IS NULL;
CREATE INDEX idx_items_parent ON items (parent_id);
CREATE INDEX idx_items_blob ON items (blob_id);
CREATE INDEX idx_items_trash ON items (community_id, trash_id) WHERE deleted_at IS NOT NULL;

-- Earlier contents of files, newest kept.
CREATE TABLE file_versions (
    id           TEXT PRIMARY KEY NOT NULL,
    file_id      TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    blob_id      TEXT NOT NULL REFERENCES blobs(id),
    size_bytes   BIGINT NOT NULL,
    mime_type    TEXT NOT NULL,
    author_id    TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    replaced_at  BIGINT NOT NULL
);
CREATE INDEX idx_file_versions_file ON file_versions (file_id, replaced_at);
CREATE INDEX idx_file_versions_blob ON file_versions (blob_id);

-- Explicit shares of a folder (and everything under it) or a file with a member.
CREATE TABLE shares (
    id           TEXT PRIMARY KEY NOT NULL,
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    item_id      TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    access       TEXT NOT NULL CHECK (access IN ('read', 'write')),
    created_by   TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (item_id, user_id)
);
CREATE INDEX idx_shares_user ON shares (user_id);

-- Uploads streaming in, with the quota they have reserved. A crashed upload's row is released
-- (and its staged bytes removed) once it has not been touched for an hour.
CREATE TABLE uploads (
    id             TEXT PRIMARY KEY NOT NULL,
    community_id   TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL,
    reserved_bytes BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    touched_at     BIGINT NOT NULL
);
CREATE INDEX idx_uploads_touched ON uploads (touched_at);
