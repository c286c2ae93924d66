-- Guará: an attachment keeps the content it was sent with. `attachment_blob_id` is a reference to
-- that blob, counted in its `ref_count` like a file's or a version's, and released when the message
-- is deleted or its conversation goes; `attachment_item_id` names the Ybira file it was sent from,
-- kept after that file is purged. (`attachment_file_id` is no longer written: it followed the live
-- file, so a download served whatever the file held at the time.)
ALTER TABLE messages ADD COLUMN attachment_blob_id TEXT;
ALTER TABLE messages ADD COLUMN attachment_item_id TEXT;

-- Attachments sent before: pinned to their file's content as it is now.
UPDATE messages SET attachment_item_id = attachment_file_id,
    attachment_blob_id = (SELECT i.blob_id FROM items i WHERE i.id = messages.attachment_file_id)
    WHERE attachment_file_id IS NOT NULL;
UPDATE blobs SET ref_count = ref_count
        + (SELECT COUNT(*) FROM messages m WHERE m.attachment_blob_id = blobs.id)
    WHERE id IN (SELECT attachment_blob_id FROM messages WHERE attachment_blob_id IS NOT NULL);

CREATE INDEX idx_messages_attachment_blob ON messages (attachment_blob_id)
    WHERE attachment_blob_id IS NOT NULL;
