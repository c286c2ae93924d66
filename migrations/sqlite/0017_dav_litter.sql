-- Desktop litter written over WebDAV (AppleDouble ._ files, .DS_Store, Thumbs.db, desktop.ini:
-- taina_ybira::dav::litter), kept aside per person for a week, never made Ybira files.
CREATE TABLE dav_litter (
    user_id    TEXT NOT NULL,
    path_key   TEXT NOT NULL,
    content    TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, path_key)
);
