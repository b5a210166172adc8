"""A server-mode "model" for Ferry: loads once, answers POST /infer, reports progress.

Ferry starts it with PORT and CUDA_VISIBLE_DEVICES set, waits for GET /health, then sends each
task as POST /infer with the input as the JSON body and headers Ferry-Task-Id,
Ferry-Progress-File and Ferry-Output-Dir. Only the standard library is used.
"""
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEVICES = os.environ.get("CUDA_VISIBLE_DEVICES", "")
LOADED_AT = time.time()  # a real model would load its weights here, once per instance


def report(path, progress, message):
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"progress": progress, "message": message}, f)
    os.replace(tmp, path)  # atomic: Ferry never reads a half-written file


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/health":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")
        else:
            self.send_error(404)

    def do_POST(self):
        if self.path != "/infer":
            self.send_error(404)
            return
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"null") or {}
        if not isinstance(body, dict):
            body = {"prompt": body}
        steps = int(body.get("steps", 4))
        step_ms = int(body.get("stepMs", 50))
        progress_file = self.headers.get("Ferry-Progress-File")
        for i in range(steps):
            time.sleep(step_ms / 1000)  # stands in for a forward pass on the GPU
            report(progress_file, round(100 * (i + 1) / steps), f"step {i + 1}/{steps}")
        prompt = str(body.get("prompt", ""))
        out = {
            "completion": prompt[::-1],
            "tokens": len(prompt.split()),
            "devices": DEVICES,
            "taskId": self.headers.get("Ferry-Task-Id"),
        }
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
