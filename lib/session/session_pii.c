/* Personal data of calls (ANI, DNIS, external number, contact attributes): set from ng,
 * hashed for the ANI index, found by ANI. Sealing happens with the call's other secrets
 * (session_secrets.c); the index keys are written by session_persist.c. */
#include <stdlib.h>
#include <string.h>

#include "session_secrets.h"

static void set_field(char *dst, size_t cap, const char *v)
{
	if (!v)
		return;
	explicit_bzero(dst, cap);
	strncpy(dst, v, cap - 1);
}

int mg_call_set_pii(struct mg_sessions *s, struct mg_call *c, const char *ani, const char *dnis,
		    const char *external_number, const char *attributes, size_t attributes_len)
{
	if (!ani && !dnis && !external_number && !attributes)
		return 0;
	if (!c->pii && !(c->pii = calloc(1, sizeof(*c->pii))))
		return -1;
	struct mg_call_pii *p = c->pii;
	set_field(p->dnis, sizeof(p->dnis), dnis);
	set_field(p->external_number, sizeof(p->external_number), external_number);
	if (attributes && attributes_len < sizeof(p->attributes)) {
		explicit_bzero(p->attributes, sizeof(p->attributes));
		memcpy(p->attributes, attributes, attributes_len);
		p->attributes_len = attributes_len;
	}
	if (ani && strcmp(ani, p->ani) != 0) {
		set_field(p->ani, sizeof(p->ani), ani);
		p->ani_hash[0] = '\0';
		struct mg_session_keys *k = mg_sessions_keys(s);
		if (p->ani[0] && k->have_sealer && k->sealer.ani_hash &&
		    k->sealer.ani_hash(k->sealer.arg, c->instance, p->ani, p->ani_hash) != 0)
			p->ani_hash[0] = '\0';
	}
	mg_call_mark_dirty(s, c);
	return 0;
}

long mg_sessions_find_by_ani(struct mg_sessions *s, const char *instance, const char *ani,
			     void (*fn)(void *arg, struct mg_call *c), void *arg)
{
	struct mg_session_keys *k = mg_sessions_keys(s);
	char hash[68];
	if (!k->have_sealer || !k->sealer.ani_hash ||
	    k->sealer.ani_hash(k->sealer.arg, instance, ani, hash) != 0)
		return -1;
	long n = 0;
	for (struct mg_call *c = mg_call_first(s); c; c = mg_call_next(c))
		if (c->pii && strcmp(c->pii->ani_hash, hash) == 0 &&
		    strcmp(c->instance, instance) == 0) {
			fn(arg, c);
			n++;
		}
	return n;
}
