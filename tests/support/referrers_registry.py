#!/usr/bin/env python3
"""An in-memory registry with the OCI 1.1 referrers API, which Debian's
docker-registry (distribution 2.8) lacks: for the client's referrers path.

Usage: referrers_registry.py PORT_FILE
Binds 127.0.0.1 on a free port and writes it to PORT_FILE. One repository,
anonymous, plain http.
  GET  /v2/                               200
  HEAD /v2/NAME/blobs/DIGEST              200 or 404
  POST /v2/NAME/blobs/uploads/            202, Location /upload/N
  PUT  /upload/N?digest=D                 the blob, checked against D
  GET  /v2/NAME/blobs/DIGEST              the blob
  PUT  /v2/NAME/manifests/REF             stored under its digest (and REF); a
                                          manifest with a subject gets an
                                          OCI-Subject header and is indexed
  GET  /v2/NAME/manifests/REF             by tag or digest
  GET  /v2/NAME/referrers/DIGEST          the subject's referrers, an image index
  GET  /stats                             the tags pushed, as JSON
"""
import hashlib
import json
import re
import sys
import urllib.parse

from fake_http import QuietHandler, serve

blobs, manifests, tags, referrers = {}, {}, {}, {}
uploads = {"n": 0}
INDEX = "application/vnd.oci.image.index.v1+json"


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Handler(QuietHandler):
    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def route(self):
        url = urllib.parse.urlparse(self.path)
        m = re.fullmatch(r"/v2/(.+)/(blobs|manifests|referrers)/(.+)", url.path)
        return url, m

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url, m = self.route()
        if url.path == "/v2/":
            return self.reply(200, b"{}")
        if url.path == "/stats":
            return self.reply(200, json.dumps({"tags": sorted(tags)}).encode())
        if not m:
            return self.reply(404)
        kind, ref = m.group(2), m.group(3)
        if kind == "blobs":
            if ref not in blobs:
                return self.reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
            return self.reply(200, blobs[ref], {"Docker-Content-Digest": ref})
        if kind == "manifests":
            d = tags.get(ref, ref)
            if d not in manifests:
                return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            data, media_type = manifests[d]
            return self.reply(200, data, {"Content-Type": media_type, "Docker-Content-Digest": d})
        index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": referrers.get(ref, [])}
        return self.reply(200, json.dumps(index).encode(), {"Content-Type": INDEX})

    def do_POST(self):
        url, m = self.route()
        self.body()
        if url.path.endswith("/blobs/uploads/"):
            uploads["n"] += 1
            return self.reply(202, b"", {"Location": f"/upload/{uploads['n']}"})
        self.reply(404)

    def do_PUT(self):
        url, m = self.route()
        data = self.body()
        if url.path.startswith("/upload/"):
            want = urllib.parse.parse_qs(url.query)["digest"][0]
            if digest_of(data) != want:
                return self.reply(400, b'{"errors":[{"code":"DIGEST_INVALID"}]}')
            blobs[want] = data
            return self.reply(201, b"", {"Docker-Content-Digest": want})
        if not m or m.group(2) != "manifests":
            return self.reply(404)
        ref, d = m.group(3), digest_of(data)
        media_type = self.headers.get("Content-Type", "")
        manifests[d] = (data, media_type)
        if not ref.startswith("sha256:"):
            tags[ref] = d
        headers = {"Docker-Content-Digest": d}
        doc = json.loads(data)
        if "subject" in doc:
            entry = {"mediaType": media_type, "digest": d, "size": len(data),
                     "artifactType": doc.get("artifactType") or doc["config"]["mediaType"]}
            if doc.get("annotations"):
                entry["annotations"] = doc["annotations"]
            listed = referrers.setdefault(doc["subject"]["digest"], [])
            if all(e["digest"] != d for e in listed):
                listed.append(entry)
            headers["OCI-Subject"] = doc["subject"]["digest"]
        self.reply(201, b"", headers)


serve(Handler, sys.argv[1])
