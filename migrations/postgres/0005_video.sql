-- Videos in the photo library: how long they play, in milliseconds.
ALTER TABLE photos ADD COLUMN duration_ms BIGINT;
