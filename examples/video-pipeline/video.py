"""The video pipeline's steps, one per task, with ffmpeg (see workflow.json for how they chain).

Each run reads its input on stdin and does one `op`:
  split      renders a test clip of `seconds` (or takes the clip given as an input asset) and cuts it
             into chunks of `chunkSeconds`, left in FERRY_OUTPUT_DIR: Ferry keeps each as an asset.
             `corruptChunk: N` writes chunk N as garbage, to see the pipeline's retry and catch.
  transcode  scales the one chunk in FERRY_INPUT_ASSETS_DIR down and re-encodes it.
  concat     joins the chunks in FERRY_INPUT_ASSETS_DIR in the order of `order` (asset refs).
  notify     POSTs the rest of its input as JSON to `url` (nothing to do without one).
The output (FERRY_OUTPUT_FILE) is a small JSON summary; the video itself travels as assets.
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]


def inputs():
    folder = os.environ.get("FERRY_INPUT_ASSETS_DIR", "")
    return {name: os.path.join(folder, name) for name in sorted(os.listdir(folder))} if folder and os.path.isdir(folder) else {}


def duration(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path], check=True, capture_output=True, text=True)
    return round(float(out.stdout.strip()), 2)


def split(task, out_dir):
    given = list(inputs().values())
    with tempfile.TemporaryDirectory() as scratch:
        source = given[0] if given else os.path.join(scratch, "source.mp4")
        if not given:
            seconds = int(task.get("seconds") or 6)
            subprocess.run(FFMPEG + ["-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=320x240:rate=25", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", source], check=True)
        chunk = str(task.get("chunkSeconds") or 2)
        # Re-encoded with a keyframe at every chunk boundary, so each chunk stands on its own.
        subprocess.run(
            FFMPEG + ["-i", source, "-c:v", "libx264", "-preset", "ultrafast", "-force_key_frames", f"expr:gte(t,n_forced*{chunk})", "-an",
                      "-f", "segment", "-segment_time", chunk, "-reset_timestamps", "1", os.path.join(out_dir, "chunk-%03d.mp4")],
            check=True,
        )
    chunks = sorted(os.listdir(out_dir))
    bad = task.get("corruptChunk")
    if bad is not None and 0 <= int(bad) < len(chunks):
        with open(os.path.join(out_dir, chunks[int(bad)]), "wb") as f:
            f.write(b"not a video" * 100)
    print(f"split into {len(chunks)} chunks")
    return {"chunks": len(chunks)}


def transcode(task, out_dir):
    [source] = inputs().values()
    name = os.path.splitext(task.get("name") or "chunk.mp4")[0]
    target = os.path.join(out_dir, f"{name}-small.mp4")
    subprocess.run(FFMPEG + ["-i", source, "-vf", "scale=160:-2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", target], check=True)
    print(f"transcoded {name}")
    return {"bytes": os.path.getsize(target), "durationSeconds": duration(target)}


def concat(task, out_dir):
    files = inputs()
    order = [ref["id"] for ref in task["order"]]
    with tempfile.TemporaryDirectory() as scratch:
        listing = os.path.join(scratch, "chunks.txt")
        with open(listing, "w") as f:
            f.writelines(f"file '{files[asset_id]}'\n" for asset_id in order)
        target = os.path.join(out_dir, "video.mp4")
        subprocess.run(FFMPEG + ["-f", "concat", "-safe", "0", "-i", listing, "-c", "copy", target], check=True)
    print(f"joined {len(order)} chunks")
    return {"bytes": os.path.getsize(target), "durationSeconds": duration(target), "chunks": len(order)}


def notify(task, _out_dir):
    url = task.pop("url", None)
    task.pop("op", None)
    if not url:
        print(f"no url to notify: {json.dumps(task)}")
        return {"notified": False}
    request = urllib.request.Request(url, data=json.dumps(task).encode(), headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return {"notified": True, "status": response.status}


def main():
    task = json.load(sys.stdin) or {}
    op = {"split": split, "transcode": transcode, "concat": concat, "notify": notify}.get(task.get("op"))
    if op is None:
        sys.exit(f"op: one of split, transcode, concat, notify, not {task.get('op')!r}")
    result = op(task, os.environ["FERRY_OUTPUT_DIR"])
    with open(os.environ["FERRY_OUTPUT_FILE"], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
