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

from taina_sdk.taina_ffi import ClientError, EventListener, ProgressListener, TainaClient

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
        await client.send_message(conversation, "Olá do Python", "py-1")
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
    sys.exit(1 if failed else 0)
