/* Conference and transfer commands of the ng protocol (ng_conf.c), internal to lib/ng.
 * The operator's view is docs/ng-protocol.md, "Conferences, consult and transfer". */
#ifndef MG_NG_CONF_H
#define MG_NG_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "bencode.h"
#include "ng.h"
#include "sdp.h"
#include "session.h"

/* Offer/answer: remembers the G.711 and telephone-event payload types of side `src` of
 * media section `i` (and, on an answer, the codec the answer chose for both sides). */
void mg_ng_conf_note_sdp(const struct mg_sdp *sdp, unsigned i, struct mg_media *m, int src,
			 bool answer);
/* Offer/answer: a call carrying a contact-id gets its legs on the worker of the contact's
 * other calls, so that they can be conferenced. */
void mg_ng_conf_place(struct mg_sessions *s, struct mg_call *c);
/* join conference, leave conference, conference hold/unhold/mute/unmute, connect.
 * Returns 0 with the answer written to out, or -1 with err filled. */
int mg_ng_conf_command(struct mg_sessions *s, const struct mg_bencode_doc *d,
		       const struct mg_bencode_node *root, enum mg_ng_cmd cmd,
		       struct mg_bencode_out *out, char *err, size_t errlen);
/* Conferences left with two parties or fewer go back to relaying (after a delete). */
void mg_ng_conf_tidy(struct mg_sessions *s);

#endif
