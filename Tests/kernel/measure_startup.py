"""Start-up to kernel_info_reply: spawns `quantlab kernel` on a fresh connection file
and times from the spawn to the reply (the client is connected first; ZeroMQ queues
the request until the kernel binds). Prints the best and median of N runs and exits 1
when the best is over the limit.

    python measure_startup.py QUANTLAB_BINARY [RUNS] [LIMIT_MS]
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file


def once(quantlab, workdir):
    path, info = write_connection_file(os.path.join(workdir, "kernel-%d.json" % time.monotonic_ns()))
    client = BlockingKernelClient()
    client.load_connection_file(path)
    client.start_channels()
    start = time.perf_counter()
    process = subprocess.Popen([quantlab, "kernel", "--connection-file", path, "--no-record"], cwd=workdir,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client.kernel_info()
        reply = client.get_shell_msg(timeout=10)
        elapsed = time.perf_counter() - start
        assert reply["header"]["msg_type"] == "kernel_info_reply"
        client.shutdown()
        process.wait(timeout=10)
        return elapsed * 1000
    finally:
        client.stop_channels()
        if process.poll() is None:
            process.kill()


def main():
    quantlab = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    limit = float(sys.argv[3]) if len(sys.argv) > 3 else 300
    with tempfile.TemporaryDirectory() as workdir:
        times = [once(quantlab, workdir) for _ in range(runs)]
    print("start-up to kernel_info_reply: best %.1f ms, median %.1f ms over %d runs (limit %.0f ms)"
          % (min(times), statistics.median(times), runs, limit))
    sys.exit(0 if min(times) < limit else 1)


if __name__ == "__main__":
    main()
