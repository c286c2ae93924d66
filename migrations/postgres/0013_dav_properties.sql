-- WebDAV dead properties (PROPPATCH): a file's or folder's own properties that clients set,
-- keyed by `{namespace}name`, with their value as self-contained XML. They go with the item
-- (moves keep them, copies copy them, purging deletes them).
CREATE TABLE ybira.dav_properties (
    item_id TEXT NOT NULL REFERENCES ybira.items(id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (item_id, name)
);
