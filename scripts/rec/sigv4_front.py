#!/usr/bin/env python3
"""SigV4-verifying front for a test S3 server (s3rver does not check signatures).

Listens on 127.0.0.1:LISTEN, recomputes every request's AWS Signature Version 4 with
botocore (an independent, well-kept signer) and the payload hash of the body it actually
received, and answers 403 to any request whose access key, credential scope, date, signature
or x-amz-content-sha256 is wrong. Good requests are forwarded unchanged to 127.0.0.1:BACKEND.

Usage: sigv4_front.py LISTEN BACKEND ACCESS_KEY SECRET_KEY [REGION]
Each refusal is logged to stderr with its reason (never the secret).
"""
import hashlib
import http.client
import http.server
import re
import sys
from datetime import datetime, timezone

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LISTEN, BACKEND, ACCESS_KEY, SECRET_KEY = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
REGION = sys.argv[5] if len(sys.argv) > 5 else "us-east-1"
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, ?"
    r"SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-connection"}


def expected_signature(method, path, headers, signed, amz_date):
    """Signature botocore computes for the same request and the same signed headers."""
    request = AWSRequest(method=method, url=f"http://{headers.get('host', '')}{path}",
                         headers={h: headers[h] for h in signed})
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION)
    # S3 does not normalise the path; botocore's S3 signer skips normalisation the same way.
    auth._normalize_url_path = lambda p: p  # noqa: SLF001 (S3 semantics)
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    return auth.signature(string_to_sign, request)


class Front(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: only refusals are logged
        pass

    def refuse(self, code, reason):
        sys.stderr.write(f"sigv4-front: {self.command} {self.path}: refused: {reason}\n")
        sys.stderr.flush()
        body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                f"<Message>{reason}</Message></Error>").encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def check(self, body):
        headers = {k.lower(): v.strip() for k, v in self.headers.items()}
        match = AUTH_RE.match(headers.get("authorization", ""))
        if not match:
            return "AccessDenied", "missing or malformed SigV4 Authorization header"
        access_key, scope_date, region, signed_list, signature = match.groups()
        if access_key != ACCESS_KEY:
            return "InvalidAccessKeyId", "unknown access key"
        if region != REGION:
            return "AuthorizationHeaderMalformed", "wrong region in credential scope"
        amz_date = headers.get("x-amz-date", "")
        try:
            when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return "AccessDenied", "missing or malformed x-amz-date"
        if amz_date[:8] != scope_date:
            return "SignatureDoesNotMatch", "credential scope date differs from x-amz-date"
        if abs((datetime.now(timezone.utc) - when).total_seconds()) > 900:
            return "RequestTimeTooSkewed", "request time too far from server time"
        signed = signed_list.split(";")
        for required in ("host", "x-amz-date", "x-amz-content-sha256"):
            if required not in signed:
                return "AccessDenied", f"header {required} not signed"
        missing = [h for h in signed if h not in headers]
        if missing:
            return "AccessDenied", f"signed header(s) missing: {','.join(missing)}"
        claimed = headers.get("x-amz-content-sha256", "")
        if claimed != hashlib.sha256(body).hexdigest():
            return "XAmzContentSHA256Mismatch", "payload hash does not match the body"
        want = expected_signature(self.command, self.path, headers, signed, amz_date)
        if want != signature:
            return "SignatureDoesNotMatch", "signature does not match"
        return None

    def handle_any(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.refuse("NotImplemented", "chunked uploads are not supported")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            sys.stderr.write(f"sigv4-front: {self.command} {self.path}: client closed mid-body "
                             f"after {len(body)} of {length} bytes; nothing forwarded\n")
            sys.stderr.flush()
            self.close_connection = True
            return
        problem = self.check(body)
        if problem:
            return self.refuse(*problem)
        try:
            backend = http.client.HTTPConnection("127.0.0.1", BACKEND, timeout=60)
            # Verified here; the backend (s3rver) only knows its own fixed key, so it gets the
            # request unsigned, which it accepts.
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in HOP_BY_HOP and k.lower() != "authorization"}
            backend.request(self.command, self.path, body=body if length else None,
                            headers=headers)
            reply = backend.getresponse()
            data = reply.read()
        except OSError as error:
            sys.stderr.write(f"sigv4-front: {self.command} {self.path}: backend unavailable: "
                             f"{error}\n")
            sys.stderr.flush()
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return
        self.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", LISTEN), Front)
    server.daemon_threads = True
    server.serve_forever()
