-- A file's time on the device it came from, when its client said (WebDAV's X-OC-Mtime, as the
-- Nextcloud clients send it): shown as its modification time to sync clients. Any later change
-- of content clears it.
ALTER TABLE ybira.items ADD COLUMN client_modified_at BIGINT;
