-- On object storage a resumable upload cannot be appended to in place: each piece is stored as
-- its own object, and the upload row lists them in order, one name per line, so that any
-- instance can continue the upload and the last one joins them. NULL on local storage, where the
-- staging file grows in place.
ALTER TABLE uploads ADD COLUMN pieces TEXT;
