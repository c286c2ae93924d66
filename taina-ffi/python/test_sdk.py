"""The SDK through its generated Python bindings, against a real `taina serve`.

Run by scripts/test-python-sdk.sh, which builds the library, generates the bindings next to it,
starts a server and sets TAINA_URL, TAINA_PHOTOS and TAINA_WORK.
"""
import asyncio
import hashlib
import os
import sys
import threading
import unittest

from taina_sdk.taina_client import ClientError, ClientOptions, PhotoScope
from taina_sdk.taina_ffi import (
    EventListener,
    ProgressListener,
    TainaClient,
    file_sha256,
    make_thumbnails,
    normalize_file_name,
    read_photo_metadata,
)
from taina_sdk.taina_jaci import AlbumVisibility, ThumbnailSize

URL = os.environ["TAINA_URL"]
PHOTOS = os.environ["TAINA_PHOTOS"]
WORK = os.environ["TAINA_WORK"]
PASSWORD = "correct horse battery staple"


class Recorder(ProgressListener):
    def __init__(self):
        self.seen = []

    def on_progress(self, done, total):
        self.seen.append((done, total))


class Inbox(EventListener):
    def __init__(self):
        self.connected = threading.Event()
        self.messages = []
        self.arrived = threading.Event()

    def on_event(self, event):
        if event.kind == "message.created" and event.message is not None:
            self.messages.append(event.message.text)
            self.arrived.set()

    def on_connection(self, connected):
        if connected:
            self.connected.set()


class SdkTest(unittest.TestCase):
    def test_sign_in_upload_list_download_and_backup(self):
        asyncio.run(self.flow())

    def test_the_server_rules_run_on_the_phone(self):
        asyncio.run(self.local())

    async def local(self):
        canon = os.path.join(PHOTOS, "Canon_40D.jpg")
        metadata = await read_photo_metadata(canon)
        self.assertEqual(metadata.camera.model, "Canon EOS 40D")
        self.assertEqual(metadata.orientation, 1)
        made = await make_thumbnails(canon, os.path.join(WORK, "thumbs"))
        self.assertEqual([t.size for t in made], [ThumbnailSize.SMALL, ThumbnailSize.MEDIUM, ThumbnailSize.LARGE])
        self.assertTrue(all(os.path.getsize(t.path) > 0 for t in made))
        with open(canon, "rb") as f:
            self.assertEqual(await file_sha256(canon), hashlib.sha256(f.read()).hexdigest())
        self.assertEqual(normalize_file_name(" Fe\u0301rias.jpg "), "Férias.jpg")
        with self.assertRaises(ClientError.Invalid):
            normalize_file_name("a/b")

    def test_files_photos_albums_and_messages(self):
        asyncio.run(self.library())

    async def library(self):
        state = os.path.join(WORK, "state")
        client = TainaClient.with_options(URL, ClientOptions(state_dir=state))
        await client.login("admin@example.org", PASSWORD)

        # Files: rename, move, trash and restore; a download cut off resumes.
        box = await client.create_folder("root", "Caixa")
        source = os.path.join(WORK, "carta.txt")
        data = ("querida Bia, " * 20000).encode()
        with open(source, "wb") as f:
            f.write(data)
        item = await client.upload_file(source, "root")
        item = await client.rename_item(str(item.id), "carta-final.txt")
        item = await client.move_item(str(item.id), str(box.id))
        self.assertEqual(item.parent_id, box.id)
        await client.trash_item(str(box.id))
        self.assertIn(box.id, [i.id for i in await client.trash()])
        await client.restore_item(str(box.id))
        self.assertEqual([i.name for i in await client.list_folder(str(box.id))], ["carta-final.txt"])
        target = os.path.join(WORK, "carta-baixada.txt")
        with open(target + ".taina-partial", "wb") as f:
            f.write(data[:1000])
        progress = Recorder()
        self.assertEqual(await client.download_file(str(item.id), target, progress), len(data))
        self.assertGreater(progress.seen[0][0], 1000)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), data)

        bia = TainaClient(URL)
        bia_me = await bia.login("bia@example.org", PASSWORD)
        # Photos (Bia's own): the timeline, a photo's detail, a thumbnail, an album.
        photos = [os.path.join(PHOTOS, n) for n in ("DSCN0010.jpg", "landscape_1.jpg", "landscape_2.jpg")]
        await bia.backup_photos(photos)
        page = await bia.timeline(PhotoScope.MINE, limit=2)
        self.assertEqual(len(page.photos), 2)
        self.assertIsNotNone(page.next_cursor)
        rest = await bia.timeline(PhotoScope.MINE, cursor=page.next_cursor)
        everything = page.photos + rest.photos
        self.assertEqual(len(everything), 3)
        detail = await bia.photo(str(everything[1].id))
        self.assertEqual(detail.previous, everything[0].id)
        self.assertEqual(detail.next, everything[2].id)
        album = await bia.create_album("Família", "", AlbumVisibility.SHARED)
        album = await bia.add_to_album(str(album.id), [str(p.id) for p in everything])
        self.assertEqual(album.photo_count, 3)
        contents = await bia.album(str(album.id))
        self.assertEqual([p.id for p in contents.photos], [p.id for p in everything])
        # The server makes thumbnails in the background: wait for the first photo's.
        first = everything[0]
        for _ in range(100):
            first = (await bia.photo(str(first.id))).photo
            if first.processed:
                break
            await asyncio.sleep(0.1)
        self.assertTrue(first.processed, first.processing_error)
        thumb = os.path.join(WORK, "thumb.webp")
        await bia.download_thumbnail(str(first.file_id), ThumbnailSize.SMALL, thumb)
        with open(thumb, "rb") as f:
            self.assertEqual(f.read(12)[8:], b"WEBP")

        # Messages: a group, an edit, a reaction, the read position.
        group = await client.create_group("Casa", [str(bia_me.id)])
        sent = await client.send_message(str(group.id), "jantar às oito")
        edited = await client.edit_message(str(sent.id), "jantar às nove")
        self.assertEqual(edited.text, "jantar às nove")
        liked = await bia.react(str(sent.id), "👍")
        self.assertEqual([r.emoji for r in liked.reactions], ["👍"])
        self.assertEqual(await bia.mark_read(str(group.id), sent.seq), sent.seq)
        page = await bia.history_page(str(group.id))
        self.assertEqual(page.messages[-1].text, "jantar às nove")
        with self.assertRaises(ClientError.Api) as refused:
            await bia.edit_message(str(sent.id), "às dez")
        self.assertEqual(refused.exception.status, 403)
        sessions = await client.sessions()
        self.assertEqual(len([s for s in sessions if s.current]), 1)

    async def flow(self):
        with self.assertRaises(ClientError.Invalid):
            TainaClient("ftp://nowhere")
        client = TainaClient(URL)
        with self.assertRaises(ClientError.Api) as refused:
            await client.login("admin@example.org", "wrong password", None)
        self.assertEqual(refused.exception.status, 401)
        me = await client.login("admin@example.org", PASSWORD, None)
        self.assertEqual(me.email, "admin@example.org")
        self.assertTrue(client.token())

        folder = await client.create_folder("root", "From Python")
        source = os.path.join(WORK, "notes.bin")
        data = bytes(i % 251 for i in range(6 * 1024 * 1024))
        with open(source, "wb") as f:
            f.write(data)
        progress = Recorder()
        item = await client.upload_file(source, str(folder.id), progress)
        self.assertEqual(item.size_bytes, len(data))
        self.assertGreaterEqual(len(progress.seen), 2)
        self.assertEqual(progress.seen[-1], (len(data), len(data)))
        listed = await client.list_folder(str(folder.id))
        self.assertEqual([i.name for i in listed], ["notes.bin"])
        copy = os.path.join(WORK, "copy.bin")
        self.assertEqual(await client.download_file(str(item.id), copy), len(data))
        with open(copy, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), hashlib.sha256(data).hexdigest())

        photos = [os.path.join(PHOTOS, n) for n in ("Canon_40D.jpg", "Nikon_D70.jpg", "jolla.jpg")]
        first = await client.backup_photos(photos, Recorder())
        self.assertEqual((first.uploaded, first.already_there, first.failed), (3, 0, []))
        second = await client.backup_photos(photos, None)
        self.assertEqual((second.uploaded, second.already_there), (0, 3))

        # A message sent by one person arrives through the other's subscription.
        bia = TainaClient(URL)
        bia_me = await bia.login("bia@example.org", PASSWORD, None)
        inbox = Inbox()
        subscription = await bia.subscribe(inbox)
        self.assertTrue(await asyncio.to_thread(inbox.connected.wait, 10))
        conversation = await client.start_direct(str(bia_me.id))
        await client.send_message(conversation, "Olá do Python", client_id="py-1")
        self.assertTrue(await asyncio.to_thread(inbox.arrived.wait, 10), "the message never came")
        self.assertEqual(inbox.messages, ["Olá do Python"])
        history = await bia.history(conversation, 0)
        self.assertEqual([m.text for m in history], ["Olá do Python"])
        subscription.cancel()

        await client.logout()
        self.assertIsNone(client.token())


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"python: {result.testsRun - failed} passed, {failed} failed")
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave without tearing the interpreter down: the SDK's runtime threads outlive the tests,
    # and one that calls back into a finalizing CPython is stopped with pthread_exit, which
    # aborts a Rust thread. (An app's process does not finalize its interpreter under them.)
    os._exit(1 if failed else 0)
