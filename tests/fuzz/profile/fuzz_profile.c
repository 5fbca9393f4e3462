/* libFuzzer: the profile parser and validator on arbitrary text. */
#include <stdlib.h>
#include <string.h>

#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mg_profile p;
	struct mg_profile_error err;
	char *text = malloc(size ? size : 1);
	memcpy(text, data, size);
	mg_profile_defaults(&p);
	if (mg_profile_parse(&p, text, size, &err) == 0)
		(void)mg_profile_validate(&p, &err);
	else if (!err.reason[0])
		abort(); /* every refusal says why */
	free(text);
	return 0;
}
