-- Jaci: a photo is a Ybira file (items) plus this row of what its bytes say. Who may see it is the
-- file's business (its space and shares); the timeline orders by taken_at, then id.
CREATE TABLE photos (
    id                   TEXT PRIMARY KEY NOT NULL,
    file_id              TEXT NOT NULL UNIQUE REFERENCES items(id) ON DELETE CASCADE,
    community_id         TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    media_kind           TEXT NOT NULL CHECK (media_kind IN ('image', 'video')),
    taken_at             BIGINT NOT NULL,
    taken_offset_minutes BIGINT,
    taken_at_source      TEXT NOT NULL,
    width                BIGINT,
    height               BIGINT,
    orientation          BIGINT NOT NULL DEFAULT 1,
    camera_make          TEXT,
    camera_model         TEXT,
    lens                 TEXT,
    latitude             DOUBLE PRECISION,
    longitude            DOUBLE PRECISION,
    altitude             DOUBLE PRECISION,
    iso                  BIGINT,
    f_number             DOUBLE PRECISION,
    exposure_time        DOUBLE PRECISION,
    focal_length         DOUBLE PRECISION,
    processed_at         BIGINT,
    processing_error     TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX idx_photos_timeline ON photos (community_id, taken_at, id);

-- Albums: private to their owner or shared with the community; photos in an explicit order.
CREATE TABLE albums (
    id             TEXT PRIMARY KEY NOT NULL,
    community_id   TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    owner_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    slug           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    visibility     TEXT NOT NULL CHECK (visibility IN ('private', 'shared')),
    cover_photo_id TEXT REFERENCES photos(id) ON DELETE SET NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (community_id, slug)
);
CREATE INDEX idx_albums_owner ON albums (owner_id);

CREATE TABLE album_photos (
    album_id TEXT NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
    photo_id TEXT NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    added_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (album_id, photo_id)
);
CREATE INDEX idx_album_photos_order ON album_photos (album_id, position);
CREATE INDEX idx_album_photos_photo ON album_photos (photo_id);

-- Previews (thumbnails) of any Ybira file: set by the previews job, copied to a photo when it joins
-- the library, so that the job and the import agree whichever runs first.
ALTER TABLE items ADD COLUMN previews_at BIGINT;
ALTER TABLE items ADD COLUMN preview_error TEXT;
