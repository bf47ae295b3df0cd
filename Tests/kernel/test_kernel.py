"""The quantlab Jupyter kernel against jupyter_kernel_test, plus progress and interrupt.

Run by scripts/test-kernel.sh (which builds the release binary, installs the kernel
spec into the virtual environment and runs this file from a scratch directory, so
the kernel's sessions/ and quantlab.db land there).
"""
import glob
import json
import os
import subprocess
import time
import queue
import unittest

import jupyter_client

import jupyter_kernel_test

# A cell that trains a tiny float model for two epochs on 500 images.
TRAIN = """seed 1
data load fashion-mnist
data sample 500
model define tiny = conv 4 k3 | relu | maxpool 4 | dense 10
config add tiny32 tiny w32a32
trial run all epochs=2 batch=50"""


class QuantlabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "quantlab"
    language_name = "quantlab"
    file_extension = ".qlab"

    code_hello_world = "echo hello, world"

    completion_samples = [
        {"text": "trial r", "matches": {"run", "resume"}},
        {"text": "plot c", "matches": {"curves"}},
        {"text": "trial run all ep", "matches": {"epochs="}},
        {"text": "plot curves metric=val_a", "matches": {"metric=val_acc"}},
    ]

    complete_code_samples = ["seed 7", 'echo "two words"', "echo a \\\n b", "# a comment", ""]
    incomplete_code_samples = ['echo "open', "model define net = dense 10 \\"]
    invalid_code_samples = ["frobnicate 3", 'echo "bad \\q escape"']

    code_inspect_sample = "trial run"
    code_generate_error = "frobnicate 3"

    # Every display_data of the cell must carry the MIME type, so training (progress
    # display, tables) happens in setUpClass and the cell only plots.
    code_display_data = [{"code": "plot curves", "mime": "image/svg+xml"},
                         {"code": "plot curves metric=train_loss", "mime": "image/svg+xml"}]

    # The last command's table is the cell's result (text/plain, text/html, text/markdown);
    # setUpClass defines the configurations they list.
    code_execute_result = [
        {"code": "config list", "mime": "text/html"},
        {"code": "config list", "mime": "text/markdown"},
    ]
    code_history_pattern = "config l*"
    supported_history_operations = ("tail", "range", "search")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in (TRAIN, "model define m = dense 10\nconfig add c m w8a8"):
            reply = cls.kc.execute_interactive(code, timeout=120, output_hook=lambda msg: None)
            assert reply["content"]["status"] == "ok", reply["content"]

    def run_cell(self, code, timeout=60):
        self.flush_channels()
        msg_id = self.kc.execute(code)
        reply = self.kc.get_shell_msg(timeout=timeout)
        messages = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        return reply, messages

    def test_zz_progress_is_one_display_updated_in_place(self):
        reply, messages = self.run_cell("config add p3 tiny w32a32\ntrial run p3 epochs=3 batch=50")
        self.assertEqual(reply["content"]["status"], "ok")
        opened = [m for m in messages if m["msg_type"] == "display_data" and m["content"].get("transient", {}).get("display_id")]
        updates = [m for m in messages if m["msg_type"] == "update_display_data"]
        self.assertEqual(len(opened), 1)
        self.assertGreaterEqual(len(updates), 1)
        display_id = opened[0]["content"]["transient"]["display_id"]
        self.assertTrue(all(m["content"]["transient"]["display_id"] == display_id for m in updates))
        self.assertIn("epoch", updates[-1]["content"]["data"]["text/plain"])


class FuzzTests(unittest.TestCase):
    """1,000 mutated messages against the release binary: bytes flipped, frames dropped or
    duplicated, signatures missing or wrong, re-signed garbage JSON. The kernel still answers
    kernel_info afterwards (the Swift suite runs the same kind of test in process)."""

    def test_thousand_mutated_messages(self):
        import hashlib
        import hmac
        import json
        import random
        import zmq

        km = jupyter_client.KernelManager(kernel_name="quantlab")
        km.start_kernel(extra_arguments=["--no-record"])
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=30)
            info = km.get_connection_info()
            key = info["key"] if isinstance(info["key"], bytes) else info["key"].encode()
            context = zmq.Context.instance()
            sockets = []
            for port in (info["shell_port"], info["control_port"]):
                sock = context.socket(zmq.DEALER)
                sock.linger = 0
                sock.connect("tcp://%s:%d" % (info["ip"], port))
                sockets.append(sock)
            rng = random.Random(13)
            kinds = ["kernel_info_request", "execute_request", "complete_request", "inspect_request",
                     "is_complete_request", "history_request", "interrupt_request", "nonsense_request"]
            odd = [5, -1, 10**12, "", None, [1], {"a": 1}, True, 1.5e300, "\u0000"]

            def sign(parts):
                return hmac.new(key, b"".join(parts), hashlib.sha256).hexdigest().encode()

            for i in range(1000):
                header = {"msg_id": "fuzz-%d" % i, "session": "fuzz", "username": "fuzz", "date": "2026-01-01T00:00:00Z",
                          "msg_type": rng.choice(kinds), "version": "5.3"}
                content = {"code": "echo x", "cursor_pos": rng.choice(odd), "hist_access_type": rng.choice(["tail", "range", "search", 3]),
                           "n": rng.choice(odd)}
                if rng.random() < 0.2:
                    content["code"] = rng.choice(odd)
                parts = [json.dumps(x).encode() for x in (header, {}, {}, content)]
                frames = [b"<IDS|MSG>", sign(parts)] + parts
                mutation = rng.randrange(5)
                if mutation == 0:
                    f = rng.randrange(len(frames))
                    if frames[f]:
                        b = bytearray(frames[f]); b[rng.randrange(len(b))] ^= rng.randrange(1, 256); frames[f] = bytes(b)
                elif mutation == 1:
                    f = 2 + rng.randrange(4)
                    frames[f] = frames[f][: rng.randrange(len(frames[f]) + 1)]
                    frames[1] = sign(frames[2:6])
                elif mutation == 2:
                    del frames[rng.randrange(len(frames))]
                elif mutation == 3:
                    frames[1] = rng.choice([b"", b"0" * 64, b"zz"])
                else:
                    frames = [bytes(rng.randrange(256) for _ in range(rng.randrange(40))) for _ in range(rng.randrange(1, 8))]
                sockets[i % 2].send_multipart(frames)
            for sock in sockets:
                sock.close()
            kc.kernel_info()
            while True:
                reply = kc.get_shell_msg(timeout=60)
                if reply["msg_type"] == "kernel_info_reply":
                    break
            self.assertEqual(reply["content"]["status"], "ok")
            self.assertTrue(km.is_alive())
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


class InterruptTests(unittest.TestCase):
    """Interrupting a training cell (interrupt_mode signal) keeps the kernel and the finished epochs.

    Its own kernel, not recorded: replaying an interrupted run is the replayer's business.
    """

    @classmethod
    def setUpClass(cls):
        cls.km = jupyter_client.KernelManager(kernel_name="quantlab")
        cls.km.start_kernel(extra_arguments=["--no-record"])
        cls.kc = cls.km.client()
        cls.kc.start_channels()
        cls.kc.wait_for_ready(timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel()

    def flush_channels(self):
        for channel in (self.kc.shell_channel, self.kc.iopub_channel):
            while True:
                try:
                    channel.get_msg(timeout=0.1)
                except queue.Empty:
                    break

    run_cell = QuantlabKernelTests.run_cell

    def test_interrupt_keeps_finished_epochs(self):
        self.run_cell(TRAIN.replace("data sample 500", "data sample 2000").replace("config add tiny32", "config add long"))
        self.flush_channels()
        msg_id = self.kc.execute("trial run long epochs=200 batch=50")
        # Wait until a progress frame reports a finished epoch, then interrupt.
        deadline = time.time() + 60
        seen_epoch = False
        while time.time() < deadline and not seen_epoch:
            msg = self.kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            text = msg["content"].get("data", {}).get("text/plain", "")
            seen_epoch = msg["msg_type"] in ("display_data", "update_display_data") and "epoch 1  train loss" in text
        self.assertTrue(seen_epoch, "no progress frame after the first epoch")
        self.km.interrupt_kernel()
        reply = self.kc.get_shell_msg(timeout=60)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "Interrupted")
        reply, messages = self.run_cell("trial show long")
        self.assertEqual(reply["content"]["status"], "ok", messages)
        shown = "".join(m["content"].get("text", "") + m["content"].get("data", {}).get("text/plain", "") for m in messages)
        self.assertIn("long", shown)
        self.assertIn("interrupted", shown)




class SessionReplayTests(unittest.TestCase):
    """Runs after the kernel tests (alphabetical): their recorded session replays with --verify."""

    def test_recorded_sessions_replay(self):
        quantlab = os.environ["QUANTLAB"]
        sessions = sorted(glob.glob("sessions/*.qlab"))
        self.assertTrue(sessions, "the kernel recorded no session")
        for path in sessions:
            with open(path) as f:
                text = f.read()
            self.assertIn("# cell 1", text)
            result = subprocess.run([quantlab, "replay", path, "--verify"], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, path + "\n" + result.stdout + result.stderr)
            # The same session as a notebook (one cell per recorded cell) replays too.
            notebook = path[:-len(".qlab")] + ".ipynb"
            subprocess.run([quantlab, "notebook", path, "-o", notebook], check=True, capture_output=True)
            with open(notebook) as f:
                cells = [c for c in json.load(f)["cells"] if c["cell_type"] == "code"]
            self.assertEqual(len(cells), text.count("# cell "))
            result = subprocess.run([quantlab, "replay", notebook, "--verify"], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, notebook + "\n" + result.stdout + result.stderr)
            self.assertIn("results verified", result.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
