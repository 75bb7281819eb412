/* watch.h: waking up when a directory changes, for `log -f`.
 *
 * On Linux through inotify (watch_linux.c, the only file that uses it);
 * a port without it returns -1 from watch_open() and the follower looks
 * again every second instead.  A wakeup says only "something changed in
 * one of the directories": the follower then reads what is new through
 * multilog.c's rules, so nothing an event names is trusted. */
#ifndef QMAILCTL_WATCH_H
#define QMAILCTL_WATCH_H

/* A watch fd to poll for reading, or -1 when the system has none. */
int watch_open(void);

/* Adds the directory at path (not followed if a symlink); -1 if it
 * cannot be watched. */
int watch_dir(int wfd, const char *path);

/* Reads away the events that are waiting, so that the fd is quiet until
 * the next change. */
void watch_drain(int wfd);

#endif
