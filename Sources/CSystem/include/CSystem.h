// Linux system calls that Swift's Glibc module does not expose: epoll, eventfd, accept4.
// Used only by the HTTPServer target.
#pragma once
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; returns the new descriptor or -1 with errno set.
int hanse_accept_nonblocking(int fd);

/// Registers, modifies or removes `fd` in `epfd` with `events`, storing `fd` as the event data.
int hanse_epoll_ctl(int epfd, int op, int fd, unsigned int events);

/// Waits for events; writes each ready descriptor and its event bits into the two arrays.
int hanse_epoll_wait(int epfd, int *fds, unsigned int *events, int capacity, int timeout_ms);
