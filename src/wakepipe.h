/* Self-pipes: how a thread wakes another that waits in poll(). */
#ifndef MARKETING_WAKEPIPE_H
#define MARKETING_WAKEPIPE_H

/* A non-blocking, close-on-exec pipe. Returns 0, or -1 with errno set. */
int wakepipe_open(int p[2]);

/* Writes one byte to fd; a full pipe already means "wake up". */
void wakepipe_signal(int fd);

/* Reads everything waiting in fd. */
void wakepipe_drain(int fd);

#endif
