#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void mg_log(const char *area, const char *fmt, ...)
{
	char line[2048], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", gmtime_r(&now, &tm));
	int n = snprintf(line, sizeof(line), "%s mediagate: %s%s", ts, area ? area : "",
			 area ? ": " : "");
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* one fputs of the whole line: lines of threads do not interleave */
	fprintf(stderr, "%s\n", line);
}
