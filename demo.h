/*
 * demo: `kith demo` — throwaway profiles for you and two scripted companions
 * under a temporary directory, the companions running headless as child
 * processes on 127.0.0.1, everyone introduced by real invite codes, then
 * the client. Everything is stopped and removed on exit.
 */
#ifndef KITH_DEMO_H
#define KITH_DEMO_H

#include <stdbool.h>

/* Returns a process exit status. */
int demo_run(int argc, char **argv, bool cost_min);

/* The scripted reply a companion gives to the n-th message (0-based). Static text. */
const char *demo_reply(const char *companion, unsigned n);

#endif
