#include "wakepipe.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int wakepipe_open(int p[2])
{
    if (pipe(p) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK) != 0 ||
            fcntl(p[i], F_SETFD, FD_CLOEXEC) != 0) {
            int e = errno;
            close(p[0]);
            close(p[1]);
            errno = e;
            return -1;
        }
    }
    return 0;
}

void wakepipe_signal(int fd)
{
    char b = 1;
    while (write(fd, &b, 1) < 0 && errno == EINTR)
        ;
}

void wakepipe_drain(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}
