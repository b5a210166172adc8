"""A job-mode batch command for Ferry: one run per task, input on stdin, output to a file.

With ffmpeg on the machine it renders a test clip and transcodes it; without, it runs a pure
Python batch over generated frames. Either way it reports progress through FERRY_PROGRESS_FILE,
writes its result to FERRY_OUTPUT_FILE, and leaves its product in FERRY_OUTPUT_DIR, where Ferry
keeps it as an output asset of the task (`clip.webm`, or `frames.txt` without ffmpeg).
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile


def report(progress, message):
    path = os.environ["FERRY_PROGRESS_FILE"]
    with open(path + ".tmp", "w") as f:
        json.dump({"progress": progress, "message": message}, f)
    os.replace(path + ".tmp", path)


def main():
    task = json.load(sys.stdin) or {}
    seconds = int(task.get("seconds", 2))
    out_dir = os.environ["FERRY_OUTPUT_DIR"]
    if shutil.which("ffmpeg"):
        dst = os.path.join(out_dir, "clip.webm")
        # The source is scratch: only what is left in the output directory becomes an asset.
        with tempfile.TemporaryDirectory() as scratch:
            src = os.path.join(scratch, "source.mp4")
            report(10, "rendering a test clip")
            subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=320x240:rate=25", src], check=True)
            report(50, "transcoding to VP9")
            subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", src, "-c:v", "libvpx-vp9", "-b:v", "200k", dst], check=True)
        result = {"engine": "ffmpeg", "bytes": os.path.getsize(dst), "seconds": seconds}
    else:
        frames = seconds * 25
        digest = hashlib.sha256()
        for i in range(frames):
            digest.update(bytes([i % 256]) * 320 * 24)
            if i % 25 == 0:
                report(round(100 * i / frames), f"frame {i}/{frames}")
        result = {"engine": "python", "frames": frames, "sha256": digest.hexdigest()}
        with open(os.path.join(out_dir, "frames.txt"), "w") as f:
            f.write(f"{frames} frames, sha256 {digest.hexdigest()}\n")
    print(f"done: {json.dumps(result)}")
    with open(os.environ["FERRY_OUTPUT_FILE"], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
