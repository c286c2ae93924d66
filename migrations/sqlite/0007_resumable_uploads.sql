-- Resumable (tus) uploads: the length announced, the bytes received so far, and where the file goes
-- (JSON: parent, name, whether it becomes a photo, the device's file time).
ALTER TABLE uploads ADD COLUMN upload_length BIGINT;
ALTER TABLE uploads ADD COLUMN upload_offset BIGINT;
ALTER TABLE uploads ADD COLUMN target TEXT;
