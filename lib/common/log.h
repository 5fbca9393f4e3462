/* mediagate's log lines: "<UTC time> mediagate: [<area>: ]<message>" on stderr, one
 * write per line. Control path only (workers never log). */
#ifndef MG_LOG_H
#define MG_LOG_H

/* area: "recording", ... or NULL for the process itself. */
void mg_log(const char *area, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
