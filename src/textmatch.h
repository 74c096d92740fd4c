/* Text matching for the list filters. */
#ifndef MARKETING_TEXTMATCH_H
#define MARKETING_TEXTMATCH_H

#include <stdbool.h>

/* True when needle occurs in hay, ignoring ASCII case. An empty needle
 * matches everything. */
bool text_contains(const char *hay, const char *needle);

#endif
