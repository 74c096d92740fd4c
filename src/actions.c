#include "actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct action_def action_defs[ACT_COUNT] = {
    [ACT_NONE] = { ACT_NONE, "none", "", SCOPE_GLOBAL, "", NULL, false },
    [ACT_QUIT] = { ACT_QUIT, "quit", "q", SCOPE_GLOBAL, "quit (Ctrl-C too)", "quit", false },
    [ACT_HELP] = { ACT_HELP, "help", "? F1", SCOPE_GLOBAL, "show every key (this screen)", "help", false },
    [ACT_NEXT_PANE] = { ACT_NEXT_PANE, "next-pane", "Tab", SCOPE_GLOBAL, "next pane", "pane", false },
    [ACT_PREV_PANE] = { ACT_PREV_PANE, "prev-pane", "BTab", SCOPE_GLOBAL, "previous pane", NULL, false },
    [ACT_PANE_1] = { ACT_PANE_1, "campaigns", "1", SCOPE_GLOBAL, "the Campaigns pane", NULL, false },
    [ACT_PANE_2] = { ACT_PANE_2, "segments", "2", SCOPE_GLOBAL, "the Segments pane", NULL, false },
    [ACT_PANE_3] = { ACT_PANE_3, "send-rate", "3", SCOPE_GLOBAL, "the Send rate pane", NULL, false },
    [ACT_PANE_4] = { ACT_PANE_4, "alerts", "4", SCOPE_GLOBAL, "the Alerts pane", NULL, false },
    [ACT_FILTER] = { ACT_FILTER, "filter", "/", SCOPE_LIST, "filter the list as you type; Esc clears", "filter", false },
    [ACT_COMMAND] = { ACT_COMMAND, "command", ":", SCOPE_GLOBAL, "command line (Tab completes, Up/Down history)", "cmd", false },
    [ACT_REFRESH] = { ACT_REFRESH, "refresh", "r C-l", SCOPE_GLOBAL, "re-read the database now and redraw", NULL, false },
    [ACT_DOWN] = { ACT_DOWN, "down", "j Down", SCOPE_LIST, "next row", NULL, false },
    [ACT_UP] = { ACT_UP, "up", "k Up", SCOPE_LIST, "previous row", NULL, false },
    [ACT_PAGE_DOWN] = { ACT_PAGE_DOWN, "page-down", "PgDn C-f", SCOPE_LIST, "a page down", NULL, false },
    [ACT_PAGE_UP] = { ACT_PAGE_UP, "page-up", "PgUp C-b", SCOPE_LIST, "a page up", NULL, false },
    [ACT_TOP] = { ACT_TOP, "top", "g Home", SCOPE_LIST, "first row", NULL, false },
    [ACT_BOTTOM] = { ACT_BOTTOM, "bottom", "G End", SCOPE_LIST, "last row", NULL, false },
    [ACT_OPEN] = { ACT_OPEN, "open", "Enter l Right", SCOPE_LIST, "details of the selected row", "detail", false },
    [ACT_BACK] = { ACT_BACK, "back", "Esc h Left", SCOPE_LIST, "back from details; clear the filter", NULL, false },
    [ACT_SORT] = { ACT_SORT, "sort", "s", SCOPE_CAMPAIGNS, "sort by the next column", "sort", false },
    [ACT_REVERSE] = { ACT_REVERSE, "reverse", "S", SCOPE_CAMPAIGNS, "reverse the sort order", NULL, false },
    [ACT_LAUNCH] = { ACT_LAUNCH, "launch", "L", SCOPE_CAMPAIGNS, "launch the campaign, after a pre-flight check", "launch", true },
    [ACT_PAUSE] = { ACT_PAUSE, "pause", "p", SCOPE_CAMPAIGNS, "pause the campaign", "pause", true },
    [ACT_RESUME] = { ACT_RESUME, "resume", "R", SCOPE_CAMPAIGNS, "resume the paused campaign", "resume", true },
    [ACT_CANCEL] = { ACT_CANCEL, "cancel", "X", SCOPE_CAMPAIGNS, "cancel the campaign for good", NULL, true },
    [ACT_ROLLBACK] = { ACT_ROLLBACK, "rollback", "B", SCOPE_CAMPAIGNS, "roll back to an earlier revision (+/- picks it)", NULL, true },
    [ACT_RETRY_FAILED] = { ACT_RETRY_FAILED, "retry-failed", "F", SCOPE_CAMPAIGNS, "send the failed deliveries again", NULL, true },
    [ACT_STOP_ALL] = { ACT_STOP_ALL, "stop-all", "!", SCOPE_GLOBAL, "pause every active campaign", NULL, true },
    [ACT_AUDIT] = { ACT_AUDIT, "audit", "5 A", SCOPE_GLOBAL, "the Audit log (again: back)", NULL, false },
    [ACT_JUMP] = { ACT_JUMP, "jump", "c", SCOPE_ALERTS, "the campaign the alert names, in Campaigns", "campaign", false },
    [ACT_ACK] = { ACT_ACK, "ack", "a", SCOPE_ALERTS, "acknowledge the alert (a comment and an expiry)", "ack", false },
    [ACT_SNOOZE] = { ACT_SNOOZE, "snooze", "z", SCOPE_ALERTS, "snooze the alert until an expiry (a comment)", "snooze", false },
    [ACT_UNACK] = { ACT_UNACK, "unack", "u", SCOPE_ALERTS, "end the alert's acknowledgement or snooze", NULL, false },
    [ACT_NEW] = { ACT_NEW, "new", "n", SCOPE_LIST, "a new campaign, or a new segment in Segments", "new", false },
    [ACT_EDIT] = { ACT_EDIT, "edit", "e", SCOPE_CAMPAIGNS, "edit the campaign (a new revision)", "edit", false },
    [ACT_CLONE] = { ACT_CLONE, "clone", "C", SCOPE_CAMPAIGNS, "a new draft from the campaign", NULL, false },
    [ACT_PREVIEW] = { ACT_PREVIEW, "preview", "v", SCOPE_CAMPAIGNS, "the message as a contact will see it", NULL, false },
    [ACT_TEST_SEND] = { ACT_TEST_SEND, "test-send", "t", SCOPE_CAMPAIGNS, "send a test to an address (never counted)", NULL, false },
    [ACT_PROMOTE] = { ACT_PROMOTE, "promote", "W", SCOPE_CAMPAIGNS, "give the rest of the audience the A/B winner", NULL, true },
    [ACT_SEG_REFRESH] = { ACT_SEG_REFRESH, "refresh-segment", "f", SCOPE_SEGMENTS, "materialize the segment's members now", "refresh", false },
};

static const struct { int code; const char *name; } key_names[] = {
    { KEYC_UP, "Up" }, { KEYC_DOWN, "Down" }, { KEYC_LEFT, "Left" }, { KEYC_RIGHT, "Right" },
    { KEYC_PGUP, "PgUp" }, { KEYC_PGDN, "PgDn" }, { KEYC_HOME, "Home" }, { KEYC_END, "End" },
    { KEYC_ENTER, "Enter" }, { KEYC_ESC, "Esc" }, { KEYC_TAB, "Tab" }, { KEYC_BTAB, "BTab" },
    { KEYC_BACKSPACE, "Backspace" }, { KEYC_F1, "F1" }, { KEYC_F2, "F2" }, { KEYC_DELETE, "Delete" },
    { ' ', "Space" },
};

int keyc_parse(const char *name)
{
    for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
        if (strcmp(name, key_names[i].name) == 0)
            return key_names[i].code;
    if (name[0] == 'C' && name[1] == '-' && name[2] >= 'a' && name[2] <= 'z' && !name[3])
        return KEYC_CTRL(name[2]);
    if (name[0] > ' ' && name[0] < 0x7f && !name[1])
        return (unsigned char)name[0];
    return -1;
}

const char *keyc_name(int code, char *buf, size_t n)
{
    for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++) {
        if (key_names[i].code == code) {
            snprintf(buf, n, "%s", key_names[i].name);
            return buf;
        }
    }
    if (code >= 1 && code < 27 && code != '\t' && code != '\r')
        snprintf(buf, n, "C-%c", 'a' + code - 1);
    else if (code > ' ' && code < 0x7f)
        snprintf(buf, n, "%c", code);
    else
        snprintf(buf, n, "#%d", code);
    return buf;
}

const struct action_def *action_find(const char *name)
{
    for (int i = 1; i < ACT_COUNT; i++)
        if (strcmp(action_defs[i].name, name) == 0)
            return &action_defs[i];
    return NULL;
}

/* Parses "j Down" into codes; returns how many, or -1 with the bad name. */
static int parse_keys(const char *value, int *codes, char *bad, size_t badsz)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", value);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
        int c = keyc_parse(tok);
        if (c < 0 || n == ACTION_MAX_KEYS) {
            snprintf(bad, badsz, "%s", c < 0 ? tok : "too many keys");
            return -1;
        }
        codes[n++] = c;
    }
    return n;
}

static void unbind_key(struct keymap *km, int key)
{
    for (int a = 1; a < ACT_COUNT; a++) {
        int w = 0;
        for (int i = 0; i < ACTION_MAX_KEYS; i++)
            if (km->keys[a][i] != key)
                km->keys[a][w++] = km->keys[a][i];
        while (w < ACTION_MAX_KEYS)
            km->keys[a][w++] = 0;
    }
}

void keymap_init(struct keymap *km)
{
    memset(km, 0, sizeof *km);
    for (int a = 1; a < ACT_COUNT; a++) {
        char bad[64];
        /* the defaults are ours and valid; a failure here is a bug */
        if (parse_keys(action_defs[a].keys, km->keys[a], bad, sizeof bad) < 0)
            abort();
    }
}

int keymap_bind(struct keymap *km, const char *action, const char *value, char *err, size_t errsz)
{
    const struct action_def *d = action_find(action);
    if (!d) {
        snprintf(err, errsz, "key.%.40s: no such action (see marketing --help keys)", action);
        return -1;
    }
    int codes[ACTION_MAX_KEYS] = { 0 };
    char bad[64];
    int n = parse_keys(value, codes, bad, sizeof bad);
    if (n < 0) {
        snprintf(err, errsz, "key.%s: '%.40s' is not a key name (like j, C-f, Down, PgUp, Enter, F1)",
                 d->name, bad);
        return -1;
    }
    if (n == 0 && (d->id == ACT_QUIT || d->id == ACT_HELP)) {
        snprintf(err, errsz, "key.%s: needs at least one key", d->name);
        return -1;
    }
    for (int i = 0; i < n; i++)
        unbind_key(km, codes[i]);
    memset(km->keys[d->id], 0, sizeof km->keys[d->id]);
    memcpy(km->keys[d->id], codes, (size_t)n * sizeof codes[0]);
    return 0;
}

enum action_id keymap_lookup(const struct keymap *km, int key)
{
    for (int a = 1; a < ACT_COUNT; a++)
        for (int i = 0; i < ACTION_MAX_KEYS && km->keys[a][i]; i++)
            if (km->keys[a][i] == key)
                return (enum action_id)a;
    return ACT_NONE;
}

const char *keymap_keys(const struct keymap *km, enum action_id a, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < ACTION_MAX_KEYS && km->keys[a][i]; i++) {
        char k[16];
        int w = snprintf(buf + used, n - used, "%s%s", used ? " " : "", keyc_name(km->keys[a][i], k, sizeof k));
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
    return buf;
}

static const char *scope_title(enum action_scope s)
{
    static const char *const t[] = { [SCOPE_GLOBAL] = "Everywhere", [SCOPE_LIST] = "In a list",
                                     [SCOPE_CAMPAIGNS] = "Campaigns", [SCOPE_SEGMENTS] = "Segments",
                                     [SCOPE_ALERTS] = "Alerts" };
    return t[s];
}

size_t keymap_help_lines(const struct keymap *km, char *out, size_t width, size_t max)
{
    size_t n = 0;
    for (int s = SCOPE_GLOBAL; s <= SCOPE_LAST; s++) {
        if (n < max)
            snprintf(out + n++ * width, width, "%s", scope_title((enum action_scope)s));
        for (int a = 1; a < ACT_COUNT && n < max; a++) {
            if ((int)action_defs[a].scope != s)
                continue;
            char keys[64];
            keymap_keys(km, (enum action_id)a, keys, sizeof keys);
            snprintf(out + n++ * width, width, "  %-16s %s%s", keys[0] ? keys : "(unbound)",
                     action_defs[a].help, action_defs[a].dangerous ? " (asks first)" : "");
        }
    }
    return n;
}

void keymap_hint(const struct keymap *km, action_filter_fn accepts, void *arg, char *out, size_t n,
                 int width)
{
    size_t used = 0;
    out[0] = '\0';
    for (int a = 1; a < ACT_COUNT; a++) {
        const struct action_def *d = &action_defs[a];
        if (!d->hint || (d->scope != SCOPE_GLOBAL && accepts && !accepts(arg, d->id)))
            continue;
        char k[16];
        if (!km->keys[a][0])
            continue;
        keyc_name(km->keys[a][0], k, sizeof k);
        char item[64];
        int w = snprintf(item, sizeof item, "%s%s %s", used ? "  " : "", k, d->hint);
        if (w < 0 || used + (size_t)w >= n || (int)(used + (size_t)w) > width)
            break;
        memcpy(out + used, item, (size_t)w + 1);
        used += (size_t)w;
    }
}

/* man(7) needs backslashes doubled and a leading '.' or '\'' escaped */
static void man_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

void keymap_print_man(FILE *out)
{
    struct keymap km;
    keymap_init(&km);
    fputs(".TS\nl l lx.\n", out);
    for (int s = SCOPE_GLOBAL; s <= SCOPE_LAST; s++) {
        for (int a = 1; a < ACT_COUNT; a++) {
            if ((int)action_defs[a].scope != s)
                continue;
            char keys[64];
            keymap_keys(&km, (enum action_id)a, keys, sizeof keys);
            fputs("\\&", out);
            man_text(out, keys);
            fputc('\t', out);
            man_text(out, action_defs[a].name);
            /* a text block: the help wraps in a narrow terminal */
            fputs("\tT{\n", out);
            man_text(out, action_defs[a].help);
            fputs("\nT}\n", out);
        }
    }
    fputs(".TE\n", out);
}
