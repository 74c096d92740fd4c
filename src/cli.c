#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "actions.h"
#include "campaigns.h"
#include "db.h"
#include "format.h"
#include "migrate.h"
#include "oplog.h"
#include "sanitize.h"

#define CLI_CONNECT_TIMEOUT_MS 10000

static void usage(FILE *out)
{
    fprintf(out,
        "usage: marketing [options]                      the console\n"
        "       marketing [options] campaigns [--status S] [--json]\n"
        "       marketing [options] campaign show ID [--json]\n"
        "       marketing [options] campaign create --from-file FILE [--note TEXT] [--json]\n"
        "       marketing [options] campaign edit ID --from-file FILE [--note TEXT] [--json]\n"
        "       marketing [options] campaign clone ID [--name NAME] [--json]\n"
        "       marketing [options] campaign preview ID [--contact EMAIL] [--variant X]\n"
        "       marketing [options] campaign test-send ID --to ADDRESS [--variant X] [--json]\n"
        "       marketing [options] campaign ab ID [--json]\n"
        "       marketing [options] campaign promote ID --variant X [--yes] [--json]\n"
        "       marketing [options] launch|pause|resume|cancel|retry-failed ID [--yes] [--json] [--note TEXT]\n"
        "       marketing [options] rollback ID [--to-revision N] [--yes] [--json] [--note TEXT]\n"
        "       marketing [options] stop-all [--yes] [--json] [--note TEXT]\n"
        "       marketing [options] audit [--campaign ID] [--user U] [--action A] [--limit N] [--json]\n"
        "       marketing [options] recipients ID [--csv]\n"
        "       marketing [options] alerts ack RULE [--label K=V]... --comment TEXT [--for DURATION] [--json]\n"
        "       marketing [options] alerts snooze RULE [--label K=V]... --comment TEXT --for DURATION [--json]\n"
        "       marketing [options] alerts unack ID [--comment TEXT] [--json]\n"
        "       marketing [options] alerts acks [--json]\n"
        "       marketing [options] segment create --name NAME --rule RULE [--timeout TIME] [--json]\n"
        "       marketing [options] segment preview --rule RULE [--timeout TIME] [--json]\n"
        "       marketing [options] segment refresh|show ID [--json]\n"
        "       marketing [options] query 'EXPR' [--json]\n"
        "       marketing [options] alerts [--json] [--wait TIME] [--rules]\n"
        "       marketing [options] watch [--json] [--interval TIME] [--count N] [--query EXPR]...\n"
        "       marketing [options] db migrate|version\n"
        "       marketing config sample|man|keys\n"
        "\n"
        "options:\n"
        "  --config FILE            read FILE instead of the default configuration\n");
    for (size_t i = 0; i < config_options_count; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", config_options[i].name);
        for (char *p = flag; *p; p++)
            if (*p == '_')
                *p = '-';
        /* the doc's first phrase: the whole text is in marketing.conf(5) */
        const char *doc = config_options[i].doc;
        size_t len = strcspn(doc, ".:,(");
        while (len && doc[len - 1] == ' ')
            len--;
        const char *arg = config_options[i].type == OPT_BOOL ? "" :
                          config_options[i].type == OPT_DURATION ? " TIME" :
                          config_options[i].type == OPT_INT ? " N" : " TEXT";
        char flagarg[80];
        snprintf(flagarg, sizeof flagarg, "%s%s", flag, arg);
        fprintf(out, "  %-24s %.*s\n", flagarg, (int)len, doc);
    }
    fprintf(out,
        "  --dump-config            print the effective configuration and exit\n"
        "  --version                print the version and exit\n"
        "  --help                   print this help and exit\n"
        "\n"
        "Every option is also a MARKETING_<NAME> variable and a line of marketing.conf;\n"
        "see marketing(1) and marketing.conf(5).\n"
        "\n"
        "exit codes: 0 success (also \"already paused\"), 1 error, 2 usage or configuration error,\n"
        "3 conflict (changed meanwhile, not allowed from its status, or a segment being refreshed),\n4 not permitted "
        "(read-only), 5 outcome unknown (the connection failed mid-action and could not be verified)\n");
}

void cli_say(const char *msg)
{
    fputs("marketing: ", stderr);
    san_fputs(msg, stderr, 0);
    fputc('\n', stderr);
}

static void say(const char *msg) { cli_say(msg); }

static void print_errors(const struct config_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        say(errs->msg[i]);
}

PGconn *cli_connect(const struct config *cfg)
{
    char err[512];
    PGconn *conn = db_connect(cfg->dsn, CLI_CONNECT_TIMEOUT_MS, -1, err, sizeof err);
    if (!conn) {
        say(err);
        oplog_write("error", NULL, NULL, err, json_pack("{s:s}", "component", "database"));
    }
    return conn;
}

static int cmd_db(const struct config *cfg, int argc, char **argv)
{
    if (argc != 1 || (strcmp(argv[0], "migrate") != 0 && strcmp(argv[0], "version") != 0)) {
        fprintf(stderr, "marketing: usage: marketing db migrate|version\n");
        return EXIT_USAGE;
    }
    PGconn *conn = cli_connect(cfg);
    if (!conn)
        return EXIT_ERROR;
    char err[1024];
    int rc = EXIT_OK;
    if (strcmp(argv[0], "migrate") == 0) {
        struct migrate_report rep;
        if (migrate_apply(conn, &rep, err, sizeof err) != 0) {
            say(err);
            rc = EXIT_ERROR;
        } else {
            printf("schema at version %d (%d applied, %zu known)\n", rep.current, rep.applied,
                   migrations_count);
        }
    } else {
        int v = migrate_current(conn, err, sizeof err);
        if (v < 0) {
            say(err);
            rc = EXIT_ERROR;
        } else {
            int latest = migrations_count ? migrations[migrations_count - 1].version : 0;
            printf("schema at version %d of %d%s\n", v, latest,
                   v < latest ? " (run 'marketing db migrate')" : "");
        }
    }
    PQfinish(conn);
    return rc;
}

/* Returns 0, or -1 (and prints nothing) when a value is not valid UTF-8. */
static int print_campaigns_json(const struct campaign_list *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->n; i++) {
        const struct campaign *c = &l->v[i];
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i}",
            "id", c->id, "name", c->name, "type", c->type, "status", c->status,
            "segment_id", c->segment_id, "segment", c->segment_name,
            "audience", (json_int_t)c->audience, "sent", (json_int_t)c->sent,
            "failed", (json_int_t)c->failed, "bounced", (json_int_t)c->bounced,
            "opened", (json_int_t)c->opened, "clicked", (json_int_t)c->clicked,
            "version", c->version, "rate_limit_per_minute", c->rate_limit);
        if (!o) {
            char msg[160];
            snprintf(msg, sizeof msg, "campaigns: %.40s has text that is not valid UTF-8", c->id);
            say(msg);
            json_decref(arr);
            return -1;
        }
        json_array_append_new(arr, o);
    }
    /* ASCII-only output: nothing in it can act on a terminal */
    json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    fputc('\n', stdout);
    json_decref(arr);
    return 0;
}

static void print_campaigns_table(const struct campaign_list *l)
{
    printf("%-9s %-32s %-5s %-11s %-20s %13s %6s %6s\n", "ID", "NAME", "TYPE", "STATUS",
           "SEGMENT", "SENT/AUDIENCE", "OPENS", "CLICKS");
    for (size_t i = 0; i < l->n; i++) {
        const struct campaign *c = &l->v[i];
        char id[64], name[160], seg[100], type[32], status[48], sent[8], aud[8], op[8], cl[8], prog[20];
        struct san_result rn = san_fit(name, sizeof name, c->name, (size_t)-1, 32, 0);
        struct san_result rs = san_fit(seg, sizeof seg, c->segment_name, (size_t)-1, 20, 0);
        san_fit(id, sizeof id, c->id, (size_t)-1, 9, 0);
        san_fit(type, sizeof type, c->type, (size_t)-1, 5, 0);
        san_fit(status, sizeof status, c->status, (size_t)-1, 11, 0);
        fmt_count(sent, sizeof sent, c->sent);
        fmt_count(aud, sizeof aud, c->audience);
        fmt_count(op, sizeof op, c->opened);
        fmt_count(cl, sizeof cl, c->clicked);
        snprintf(prog, sizeof prog, "%s/%s", sent, aud);
        /* pad by display columns, not bytes */
        printf("%-9s %s%*s %-5s %-11s %s%*s %13s %6s %6s\n", id, name, 32 - rn.cols, "",
               type, status, seg, 20 - rs.cols, "", prog, op, cl);
    }
}

static int cmd_campaigns(const struct config *cfg, int argc, char **argv)
{
    bool json = false;
    const char *status = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc) {
            status = argv[++i];
        } else {
            char msg[128];
            snprintf(msg, sizeof msg, "campaigns: unexpected argument '%.64s'", argv[i]);
            say(msg);
            return EXIT_USAGE;
        }
    }
    static const char *statuses[] = { "draft", "scheduled", "active", "paused", "completed", "cancelled" };
    if (status) {
        bool ok = false;
        for (size_t i = 0; i < 6; i++)
            ok |= strcmp(status, statuses[i]) == 0;
        if (!ok) {
            char msg[200];
            snprintf(msg, sizeof msg, "campaigns: unknown status '%.32s' (one of draft, scheduled, "
                                      "active, paused, completed, cancelled)", status);
            say(msg);
            return EXIT_USAGE;
        }
    }
    PGconn *conn = cli_connect(cfg);
    if (!conn)
        return EXIT_ERROR;
    char err[1024];
    struct campaign_list *l = campaign_list_fetch(conn, status, err, sizeof err);
    PQfinish(conn);
    if (!l) {
        say(err);
        return EXIT_ERROR;
    }
    int rc = EXIT_OK;
    if (json)
        rc = print_campaigns_json(l) == 0 ? EXIT_OK : EXIT_ERROR;
    else
        print_campaigns_table(l);
    campaign_list_free(&l);
    return rc;
}

static int cmd_config(int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "sample") == 0) {
        config_print_sample(stdout);
        return EXIT_OK;
    }
    if (argc == 1 && strcmp(argv[0], "man") == 0) {
        config_print_man(stdout);
        return EXIT_OK;
    }
    if (argc == 1 && strcmp(argv[0], "keys") == 0) {
        keymap_print_man(stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "marketing: usage: marketing config sample|man|keys\n");
    return EXIT_USAGE;
}

int cli_main(int argc, char **argv, char **envp, cli_console_fn console)
{
    struct config cfg;
    config_init(&cfg);
    struct config_errors errs = { 0 };
    const char *config_path = NULL;
    bool dump = false;
    int rc = EXIT_USAGE;

    /* first pass: --config, --help, --version; flags apply after the file */
    int i;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            rc = EXIT_OK;
            goto out;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("marketing %s\n", MARKETING_VERSION);
            rc = EXIT_OK;
            goto out;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "marketing: --config needs a file\n");
                goto out;
            }
            config_path = argv[++i];
        } else if (strncmp(argv[i], "--", 2) == 0 && strchr(argv[i], '=') == NULL &&
                   config_find(argv[i] + 2) && config_find(argv[i] + 2)->type != OPT_BOOL) {
            i++; /* its value */
        }
    }
    const char *used;
    if (config_load_file(&cfg, config_path, &used, &errs) + config_load_env(&cfg, envp, &errs)) {
        print_errors(&errs);
        goto out;
    }
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        if (strcmp(a, "--dump-config") == 0) {
            dump = true;
            continue;
        }
        const char *eq = strchr(a, '=');
        const struct opt_def *opt = NULL;
        if (strncmp(a, "--", 2) == 0) {
            char name[64];
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), a + 2);
            opt = config_find(name);
        }
        if (!opt) {
            char msg[128];
            snprintf(msg, sizeof msg, "unknown option '%.64s' (see marketing --help)", a);
            say(msg);
            goto out;
        }
        const char *val;
        if (eq)
            val = eq + 1;
        else if (opt->type == OPT_BOOL)
            val = "true";
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            char msg[128];
            snprintf(msg, sizeof msg, "%.64s needs a value", a);
            say(msg);
            goto out;
        }
        char err[512], src[80];
        snprintf(src, sizeof src, "--%s", opt->name);
        if (config_set(&cfg, opt, val, src, err, sizeof err) != 0) {
            say(err);
            goto out;
        }
    }
    if (dump) {
        if (used)
            printf("# read %s\n", used);
        config_dump(&cfg, stdout);
        rc = EXIT_OK;
        goto out;
    }
    argc -= i;
    argv += i;
    if (argc == 0 || !(strcmp(argv[0], "db") == 0 || strcmp(argv[0], "campaigns") == 0 ||
                       strcmp(argv[0], "config") == 0 || strcmp(argv[0], "help") == 0 ||
                       strcmp(argv[0], "query") == 0 || strcmp(argv[0], "watch") == 0)) {
        char err[512];
        if (oplog_open(cfg.log_file, err, sizeof err) != 0) {
            say(err);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (argc == 0)
        rc = console(&cfg);
    else if (strcmp(argv[0], "db") == 0)
        rc = cmd_db(&cfg, argc - 1, argv + 1);
    else if (strcmp(argv[0], "campaigns") == 0)
        rc = cmd_campaigns(&cfg, argc - 1, argv + 1);
    else if (strcmp(argv[0], "config") == 0)
        rc = cmd_config(argc - 1, argv + 1);
    else if (strcmp(argv[0], "segment") == 0)
        rc = cli_segments(&cfg, argc - 1, argv + 1);
    else if (strcmp(argv[0], "query") == 0)
        rc = cli_query(&cfg, argc - 1, argv + 1);
    else if (strcmp(argv[0], "alerts") == 0) {
        /* ack, snooze, unack and acks are cli_acks'; the rest is cli_alerts' */
        rc = cli_acks(&cfg, argc - 1, argv + 1);
        if (rc < 0)
            rc = cli_alerts(&cfg, argc - 1, argv + 1);
    } else if (strcmp(argv[0], "watch") == 0)
        rc = cli_watch(&cfg, argc - 1, argv + 1);
    else if (strcmp(argv[0], "help") == 0) {
        usage(stdout);
        rc = EXIT_OK;
    } else if (strcmp(argv[0], "campaign") == 0 && argc > 1 &&
               (rc = cli_campaigns(&cfg, argc - 1, argv + 1)) >= 0) {
        /* authoring; "campaign show" is campaign control's */
    } else if ((rc = cli_control(&cfg, argv[0], argc - 1, argv + 1)) < 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown command '%.64s' (see marketing --help)", argv[0]);
        say(msg);
        rc = EXIT_USAGE;
    }
out:
    oplog_close();
    config_errors_free(&errs);
    config_free(&cfg);
    return rc;
}
