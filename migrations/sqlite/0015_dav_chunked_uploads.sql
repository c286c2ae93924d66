-- Nextcloud's chunked uploads: the client names its upload (a transfer id of its own) and sends
-- numbered chunks before it says where the file goes. Each is a resumable upload whose
-- destination is named at the end (uploads.target with "held"); this maps the client's name to it.
CREATE TABLE dav_chunked_uploads (
    user_id     TEXT NOT NULL,
    transfer_id TEXT NOT NULL,
    upload_id   TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, transfer_id)
);
