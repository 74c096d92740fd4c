/* marketing: the operator console of the marketing system. */
#include <locale.h>
#include <signal.h>

#include <curl/curl.h>

#include "cli.h"
#include "ui.h"

extern char **environ;

int main(int argc, char **argv)
{
    /* LC_CTYPE only: a German LC_NUMERIC would read "1.5" as 1 */
    setlocale(LC_CTYPE, "");
    signal(SIGPIPE, SIG_IGN);
    /* before any thread exists */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cli_main(argc, argv, environ, ui_run);
    curl_global_cleanup();
    return rc;
}
