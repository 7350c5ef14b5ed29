#!/usr/bin/env python3
"""A fake registry with a Bearer token service, for the client's auth tests.

Usage: fake_token_registry.py PORT_FILE [EXPIRES_IN]
Binds 127.0.0.1 on a free port and writes it to PORT_FILE. Users: alice with
password s3cret, or the refresh token refresh-123 (identity token flow).
  GET  /v2/                      401 Bearer challenge
  GET  /token, POST /token       a new token "tok-N" for good credentials
  GET  /v2/team/app/manifests/*  needs a live token
  GET  /v2/team/app/blobs/*      needs a live token; 307 to http://localhost:PORT/storage
  GET  /storage                  the blob; notes whether Authorization came along
  POST /revoke                   every token given out so far stops working
  GET  /stats                    what happened, as JSON
"""
import base64
import json
import sys
import urllib.parse

from fake_http import QuietHandler, serve

EXPIRES = int(sys.argv[2]) if len(sys.argv) > 2 else 300
MANIFEST = b'{"schemaVersion":2}'
state = {"tokens": set(), "issued": 0, "token_requests": [], "storage_auth": [], "grant": []}


class Handler(QuietHandler):
    def challenge(self):
        port = self.server.server_address[1]
        self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}', {
            "WWW-Authenticate": f'Bearer realm="http://127.0.0.1:{port}/token",service="fake.test"'})

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in state["tokens"]

    def issue(self, scope):
        state["issued"] += 1
        token = f"tok-{state['issued']}"
        state["tokens"].add(token)
        state["token_requests"].append(scope)
        self.reply(200, json.dumps({"token": token, "expires_in": EXPIRES}).encode())

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/v2/":
            return self.challenge()
        if url.path == "/token":
            q = urllib.parse.parse_qs(url.query)
            good = "Basic " + base64.b64encode(b"alice:s3cret").decode()
            if self.headers.get("Authorization") != good or q.get("service") != ["fake.test"]:
                return self.reply(401, b'{"details":"bad credentials"}')
            state["grant"].append("basic")
            return self.issue(q["scope"][0])
        if url.path == "/stats":
            out = {k: v for k, v in state.items() if k != "tokens"}
            return self.reply(200, json.dumps(out).encode())
        if url.path == "/storage":
            state["storage_auth"].append("Authorization" in self.headers)
            return self.reply(200, b"hello")
        if not self.authorized():
            return self.challenge()
        if url.path.startswith("/v2/team/app/manifests/"):
            return self.reply(200, MANIFEST,
                              {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        if url.path.startswith("/v2/team/app/blobs/"):
            port = self.server.server_address[1]
            return self.reply(307, b"", {"Location": f"http://localhost:{port}/storage?sig=x"})
        self.reply(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        if self.path == "/revoke":
            state["tokens"].clear()
            return self.reply(200)
        if self.path == "/token":
            form = urllib.parse.parse_qs(body)
            if form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != ["refresh-123"]:
                return self.reply(401)
            state["grant"].append("refresh_token")
            return self.issue(form["scope"][0])
        self.reply(404)


serve(Handler, sys.argv[1])
