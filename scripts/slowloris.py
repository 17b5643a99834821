"""Hostile load against a live `clipwb serve` on loopback, bounded in time (make loadtest, phase 5).

While it runs:
  - SLOW connections (default 1,100) each send a request head one byte a second and reconnect when
    the server closes them (the server's 20 s header bound);
  - 8 clients upload pathological images back to back: a progressive JPEG repeating one scan
    100,000 times (1.9 MB) and a 7000×7000 16-bit PNG (a few hundred KB that decode to 49 megapixels);
  - one client times GET /healthz and one times text search, each sequentially.
Prints one JSON object: p50/p99 of both, how many requests each got through, and what the
attackers saw (closed connections, upload statuses).

usage: slowloris.py PORT [--slow 1100] [--seconds 20]
"""
import argparse
import asyncio
import io
import json
import random
import resource
import statistics
import time
import zlib
import struct

from PIL import Image

WORDS = ["red", "blue", "black", "white", "green", "wooden", "leather", "metal", "small", "large",
         "shoe", "chair", "lamp", "table", "sofa", "bottle", "phone", "case", "bag", "rug"]


def scan_bomb(repeats: int = 100_000) -> bytes:
    buf = io.BytesIO()  # one flat colour: its last (refinement) scan is a few bytes, so 1.9 MB holds ~100,000
    Image.new("RGB", (1024, 1024), (120, 30, 200)).save(buf, "JPEG", progressive=True)
    data = buf.getvalue()
    sos, eoi = data.rindex(b"\xff\xda"), data.rindex(b"\xff\xd9")
    scan = data[sos:eoi]
    reps = max(1, min(repeats, 1_900_000 // len(scan)))
    return data[:eoi] + scan * reps + data[eoi:]


def big_png16(side: int = 7000) -> bytes:
    """A 16-bit RGB PNG of one colour: tiny on disk, `side`² pixels decoded."""
    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
    row = b"\x00" + b"\x12\x34" * 3 * side
    comp = zlib.compressobj(9)
    raw = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


async def request(port, head: bytes, body: bytes = b"", timeout=30.0):
    """One request on a fresh connection; returns (status, seconds)."""
    t0 = time.perf_counter()
    r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        w.write(head + body)
        await w.drain()
        line = await asyncio.wait_for(r.readline(), timeout)
        status = int(line.split()[1]) if line else 0
        length = 0
        while True:
            h = await asyncio.wait_for(r.readline(), timeout)
            if h in (b"\r\n", b""):
                break
            if h.lower().startswith(b"content-length:"):
                length = int(h.split(b":")[1])
        if length:
            await asyncio.wait_for(r.readexactly(length), timeout)
        return status, time.perf_counter() - t0
    finally:
        w.close()


async def slow_client(port, stop, stats):
    while not stop.is_set():
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            stats["connect_errors"] += 1
            await asyncio.sleep(1)
            continue
        stats["opened"] += 1
        try:
            payload = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000
            for byte in payload:
                if stop.is_set():
                    break
                w.write(bytes([byte]))
                await w.drain()
                await asyncio.sleep(1)
                if r.at_eof():
                    break
        except (ConnectionError, OSError):
            pass
        stats["closed_by_server"] += 1
        w.close()


async def uploader(port, stop, files, stats):
    i = 0
    while not stop.is_set():
        body = files[i % len(files)]
        i += 1
        head = (f"POST /api/search/image?k=4 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        try:
            status, _ = await request(port, head, body, timeout=120)
        except (asyncio.TimeoutError, OSError):
            status = -1
        stats[str(status)] = stats.get(str(status), 0) + 1


async def timer(port, stop, path_fn, times, errors):
    while not stop.is_set():
        head = f"GET {path_fn()} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        try:
            status, dt = await request(port, head, timeout=30)
            if status == 200:
                times.append(dt)
            else:
                errors.append(status)
        except (asyncio.TimeoutError, OSError) as e:
            errors.append(type(e).__name__)
        await asyncio.sleep(0.02)


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--slow", type=int, default=1100)
    ap.add_argument("--seconds", type=float, default=20)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, a.slow + 512)), hard))
    files = [scan_bomb(), big_png16()]
    stop = asyncio.Event()
    slow_stats = {"opened": 0, "closed_by_server": 0, "connect_errors": 0}
    upload_stats = {}
    health, text, health_err, text_err = [], [], [], []
    tasks = [asyncio.create_task(slow_client(a.port, stop, slow_stats)) for _ in range(a.slow)]
    await asyncio.sleep(2)  # let the slow connections open first
    tasks += [asyncio.create_task(uploader(a.port, stop, files, upload_stats)) for _ in range(8)]
    tasks.append(asyncio.create_task(timer(a.port, stop, lambda: "/healthz", health, health_err)))
    tasks.append(asyncio.create_task(timer(
        a.port, stop, lambda: "/api/search?q=" + "+".join(random.choice(WORDS) for _ in range(3)), text, text_err)))
    await asyncio.sleep(a.seconds)
    stop.set()
    await asyncio.wait(tasks, timeout=15)
    for t in tasks:
        t.cancel()
    print(json.dumps({
        "slow_connections": a.slow, "seconds": a.seconds,
        "healthz": {"n": len(health), "p50_ms": pct(health, 0.5), "p99_ms": pct(health, 0.99), "errors": health_err[:10],
                    "error_count": len(health_err)},
        "text_search": {"n": len(text), "p50_ms": pct(text, 0.5), "p99_ms": pct(text, 0.99), "errors": text_err[:10],
                        "error_count": len(text_err)},
        "slow_clients": slow_stats, "uploads_by_status": upload_stats,
        "upload_sizes": [len(f) for f in files],
    }))


if __name__ == "__main__":
    asyncio.run(main())
