/* ng glue of the recording (lib/recorder): start/stop recording, block/unblock media as
 * mute/unmute, contact-center keys (docs/ng-protocol.md, "Recording"). Private to lib/ng. */
#ifndef MG_NG_REC_H
#define MG_NG_REC_H

#include <stdbool.h>
#include <stddef.h>

#include "bencode.h"
#include "recorder.h"
#include "session.h"

/* Contact-center keys of a request naming side `side` (-1: none) of call c: recording-channels
 * (with start), agent, hold, transfer, conference. Returns 0, or -1 with err filled. */
int mg_ng_rec_keys(struct mg_recorder *r, struct mg_call *c, int side,
		   const struct mg_bencode_doc *d, const struct mg_bencode_node *root, char *err,
		   size_t errlen);
/* start recording (mode from recording-channels, default both) / stop recording (mode
 * none), after the other keys of the request. */
int mg_ng_rec_command(struct mg_recorder *r, struct mg_call *c, int side, bool start,
		      const struct mg_bencode_doc *d, const struct mg_bencode_node *root, char *err,
		      size_t errlen);
/* block/unblock media of one side: the policy's mute/unmute for that leg (when the call
 * belongs to a contact and the leg is known to its policy). */
void mg_ng_rec_block(struct mg_recorder *r, struct mg_call *c, int side, bool block);

#endif
