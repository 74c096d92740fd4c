#include "cmdline.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

size_t cmdline_complete(char *buf, size_t bufsz, char *cands, size_t candsz)
{
    size_t plen = strlen(buf), matched = 0, used = 0;
    const char *first = NULL;
    size_t common = 0;
    if (candsz)
        cands[0] = '\0';
    if (strchr(buf, ' '))
        return 0; /* only the command word completes */
    for (int a = 1; a < ACT_COUNT; a++) {
        const char *name = action_defs[a].name;
        if (strncmp(name, buf, plen) != 0)
            continue;
        if (!first) {
            first = name;
            common = strlen(name);
        } else {
            size_t i = 0;
            while (i < common && first[i] == name[i])
                i++;
            common = i;
        }
        matched++;
        int w = snprintf(cands + used, candsz > used ? candsz - used : 0, "%s%s", used ? " " : "", name);
        if (w > 0 && used + (size_t)w < candsz)
            used += (size_t)w;
    }
    if (matched == 1)
        snprintf(buf, bufsz, "%s ", first);
    else if (matched > 1 && common > plen)
        snprintf(buf, bufsz, "%.*s", (int)common, first);
    return matched;
}

enum action_id cmdline_parse(const char *line, const char **arg)
{
    while (isspace((unsigned char)*line))
        line++;
    size_t len = 0;
    while (line[len] && !isspace((unsigned char)line[len]))
        len++;
    const char *rest = line + len;
    while (isspace((unsigned char)*rest))
        rest++;
    if (arg)
        *arg = rest;
    if (len == 1 && line[0] == 'q')
        return ACT_QUIT;
    for (int a = 1; a < ACT_COUNT; a++)
        if (strlen(action_defs[a].name) == len && strncmp(action_defs[a].name, line, len) == 0)
            return (enum action_id)a;
    return ACT_NONE;
}

void cmd_history_add(struct cmd_history *h, const char *line)
{
    if (!*line || (h->n && strcmp(h->line[h->n - 1], line) == 0))
        return;
    if (h->n == CMDLINE_HISTORY) {
        memmove(h->line[0], h->line[1], (CMDLINE_HISTORY - 1) * sizeof h->line[0]);
        h->n--;
    }
    snprintf(h->line[h->n++], CMDLINE_MAX, "%s", line);
}
