-- Guará: conversations, their participants (with read positions), messages and reactions.
-- Messages are numbered per conversation (seq) under the conversation's row lock, so the order is
-- the commit order and catching up "after seq N" never misses one.
CREATE TABLE conversations (
    id              TEXT PRIMARY KEY NOT NULL,
    community_id    TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
    name            TEXT,
    direct_key      TEXT,
    created_by      TEXT REFERENCES users(id) ON DELETE SET NULL,
    last_seq        BIGINT NOT NULL DEFAULT 0,
    last_activity_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX idx_conversations_direct ON conversations (community_id, direct_key)
    WHERE direct_key IS NOT NULL;

CREATE TABLE participants (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    joined_at       BIGINT NOT NULL,
    last_read_seq   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX idx_participants_user ON participants (user_id);

CREATE TABLE messages (
    rid                INTEGER PRIMARY KEY NOT NULL,
    id                 TEXT NOT NULL UNIQUE,
    conversation_id    TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq                BIGINT NOT NULL,
    sender_id          TEXT REFERENCES users(id) ON DELETE SET NULL,
    body               TEXT NOT NULL DEFAULT '',
    system_note        TEXT,
    attachment_file_id TEXT REFERENCES items(id) ON DELETE SET NULL,
    attachment_name    TEXT,
    attachment_mime    TEXT,
    attachment_size    BIGINT,
    reply_to_id        TEXT,
    client_key         TEXT,
    created_at         BIGINT NOT NULL,
    edited_at          BIGINT,
    deleted_at         BIGINT,
    UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX idx_messages_client_key ON messages (conversation_id, sender_id, client_key)
    WHERE client_key IS NOT NULL;

CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

-- Full-text search (SQLite only; PostgreSQL has a generated tsvector column): an FTS5 index over
-- the messages' text, kept in step by triggers. Deleting a message empties its body, and so its
-- index entry.
CREATE VIRTUAL TABLE guara_search USING fts5(
    body, content = 'messages', content_rowid = 'rid', tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER guara_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO guara_search (rowid, body) VALUES (new.rid, new.body);
END;
CREATE TRIGGER guara_search_delete AFTER DELETE ON messages BEGIN
    INSERT INTO guara_search (guara_search, rowid, body) VALUES ('delete', old.rid, old.body);
END;
CREATE TRIGGER guara_search_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO guara_search (guara_search, rowid, body) VALUES ('delete', old.rid, old.body);
    INSERT INTO guara_search (rowid, body) VALUES (new.rid, new.body);
END;
