/* proc: /proc/self/stat, /proc/self/fd and RLIMIT_NOFILE. */
#include "proc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static bool proc_read_stat(struct proc_stats *out)
{
    char buf[2048];
    FILE *f;
    size_t n;
    char *p;
    char *save = NULL;
    char *tok;
    int field = 3; /* the first field after "pid (comm)" is the state, field 3 */
    unsigned long long utime = 0, stime = 0, vsize = 0, rss = 0;
    long ticks = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);

    f = fopen("/proc/self/stat", "r");
    if (!f)
        return false;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p)
        return false;
    for (tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
        if (field == 14)
            utime = strtoull(tok, NULL, 10);
        else if (field == 15)
            stime = strtoull(tok, NULL, 10);
        else if (field == 23)
            vsize = strtoull(tok, NULL, 10);
        else if (field == 24) {
            rss = strtoull(tok, NULL, 10);
            break;
        }
    }
    if (ticks <= 0)
        ticks = 100;
    if (page <= 0)
        page = 4096;
    out->cpu_seconds = (double)(utime + stime) / (double)ticks;
    out->virtual_bytes = (double)vsize;
    out->resident_bytes = (double)rss * (double)page;
    return field >= 24;
}

static double proc_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    double n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* the directory stream's own descriptor */
}

bool proc_sample(struct proc_stats *out)
{
    struct rlimit rl;
    bool ok;

    memset(out, 0, sizeof *out);
    ok = proc_read_stat(out);
    out->open_fds = proc_count_fds();
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        out->max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : (double)rl.rlim_cur;
    return ok;
}
