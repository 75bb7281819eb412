/* sdnotify.h: tell systemd how a service started under a Type=notify unit
 * is doing, through the datagram socket named in $NOTIFY_SOCKET.
 *
 * The protocol is sd_notify(3)'s, written here so that qmailctl needs no
 * libsystemd: one AF_UNIX SOCK_DGRAM datagram of newline-separated
 * "KEY=value" assignments ("READY=1", "STATUS=...", "STOPPING=1").  A name
 * starting with '@' is in the abstract namespace (the '@' becomes a NUL).
 *
 * Without $NOTIFY_SOCKET (sysvinit, a shell) every call does nothing and
 * succeeds: the supervisor calls it unconditionally. */
#ifndef QMAILCTL_SDNOTIFY_H
#define QMAILCTL_SDNOTIFY_H

/* Sends state (e.g. "READY=1\nSTATUS=serving") as one datagram.  0 when
 * sent or when there is no $NOTIFY_SOCKET; -1 with errno otherwise (a name
 * too long for sun_path is ENAMETOOLONG, a relative one EINVAL).  Never
 * blocks: systemd's socket is read by PID 1, a full one is EAGAIN. */
int sd_notify_send(const char *state);

#endif
