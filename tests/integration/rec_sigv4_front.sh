#!/usr/bin/env bash
# The SigV4-verifying front refuses wrong signatures and payload hashes (checked with curl's
# own signer and botocore), mediagate-rec's libcurl-signed upload is accepted, and a wrong
# secret gives a clear error, keeps the recording in the spool and stores nothing.
source "$MG_ROOT/scripts/rec/testenv.sh"
start_s3
start_front
body=$work/body
echo "hello bucket" >"$body"
sha=$(sha256sum "$body" | cut -d' ' -f1)
url=$MG_S3_ENDPOINT/$MG_S3_BUCKET/probe/object
put() { # $1 secret, $2 payload hash header value
	curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$MG_S3_ACCESS_KEY:$1" -H "x-amz-content-sha256: $2" -T "$body" "$url"
}
code=$(put "$MG_S3_SECRET_KEY" "$sha")
[ "$code" = 200 ] || fail "correctly signed PUT got $code"
pass "correctly signed PUT accepted (200)"
code=$(put "wrong-secret" "$sha")
[ "$code" = 403 ] || fail "PUT signed with a wrong secret got $code, expected 403"
grep -q "signature does not match" "$work/front.log" || fail "front did not log the signature refusal"
pass "wrong signature refused (403)"
code=$(put "$MG_S3_SECRET_KEY" "$(echo other | sha256sum | cut -d' ' -f1)")
[ "$code" = 403 ] || fail "PUT with a wrong payload hash got $code, expected 403"
grep -q "payload hash does not match" "$work/front.log" || fail "front did not log the payload refusal"
pass "wrong payload hash refused (403)"
# A signed request whose body is changed after signing: same headers, other bytes.
echo "tampered bucket" >"$body"
code=$(put "$MG_S3_SECRET_KEY" "$sha")
[ "$code" = 403 ] || fail "body swapped after signing got $code"
pass "body swapped after signing refused (403)"
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$body" "$url")
[ "$code" = 403 ] || fail "unsigned PUT got $code"
pass "unsigned request refused (403)"

# mediagate-rec: wrong credentials -> clear error, recording stays, bucket unchanged.
export MG_REC_PRINCIPAL=admin
"$rec" keys create --account 111122223333 --instance inst-a >/dev/null
make_wav "$work/a.wav" 1
"$rec" seal --instance inst-a --alias acme --contact contact-1 --in "$work/a.wav" >/dev/null
set +e
out=$(MG_S3_SECRET_KEY=not-the-secret "$rec" deliver --until-empty --timeout 2 2>&1)
rc=$?
set -e
[ $rc -eq 7 ] || fail "deliver with a wrong secret exited $rc, expected 7: $out"
echo "$out" | tail -1 | grep -q "HTTP 403" || fail "no clear 403 message: $out"
echo "$out" | grep -q "not-the-secret" && fail "the secret appears in the error output"
ls "$work/state/spool/"*.mgenc >/dev/null || fail "recording left the spool after a refused upload"
[ "$(list_bucket | grep -c CallRecordings || true)" = 0 ] || fail "something was stored"
pass "wrong credentials: exit 7, '$(echo "$out" | tail -1 | cut -c1-90)...'"
"$rec" deliver --until-empty --timeout 20 >/dev/null || fail "deliver with the right secret failed"
[ "$(list_bucket | grep -c CallRecordings)" = 1 ] || fail "recording not in the bucket"
pass "libcurl SigV4 upload verified by botocore and stored"
echo "PASS rec_sigv4_front"
