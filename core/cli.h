/*
 * cli: the profile commands of the command-line contract (DESIGN.md) as
 * functions of a running or freshly opened engine, writing into buffers.
 * The same code serves `kith COMMAND` run directly and commands handed to a
 * running engine through its control socket. Uses only engine verbs.
 */
#ifndef KITH_CORE_CLI_H
#define KITH_CORE_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct engine;

struct cli_buf {
    char *s;
    size_t len;
    size_t cap;
};

void cli_printf(struct cli_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal (quotes included). */
void cli_json_str(struct cli_buf *b, const char *s);
void cli_buf_free(struct cli_buf *b);

/* Run one command (argv[0] is the command name). Returns the exit status:
 * 0 done, 1 failed (one calm line on err), 2 usage. */
int cli_exec(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err);

/* `repair act|status|keep` (core/cli_repair.c); same contract as cli_exec. */
int cli_repair(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err);

/* `backup FILE` (core/cli_profile.c); FILE must be an absolute path (main.c makes it one, as
 * the engine answering may run in another directory). Same contract as cli_exec. */
int cli_backup(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err);

/* `retention CONTACT [DURATION|off|accept|decline] [--json]` (core/cli_retention.c): show,
 * propose or answer the conversation's disappearing-messages setting. Same contract as cli_exec. */
int cli_retention(struct engine *e, int argc, char **argv, struct cli_buf *out,
                  struct cli_buf *err);

/* Help from one table (core/cli_help.c): command NULL appends every command's usage and
 * description, one or two lines each; else "usage: kith USAGE" and its description for that
 * command. KITH_OK, or KITH_ENOTFOUND for a command kith doesn't have. */
KITH_NODISCARD int cli_help(const char *command, struct cli_buf *out);

/* `circle ...` and `circles` (core/cli_circle.c); same contract as cli_exec. */
int cli_circle(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err);
int cli_circles(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err);
/* `invite --circle NAME` (core/cli_circle.c). */
int cli_invite_circle(struct engine *e, const char *circle, long ttl, struct cli_buf *out,
                      struct cli_buf *err);
/* Shared argument helpers (core/cli.c): a flag present; the value of "--opt V" or
 * "--opt=V" (NULL when absent); a failure line (exit 1); a usage line (exit 2). */
bool cli_has_flag(int argc, char **argv, const char *flag);
const char *cli_opt(int argc, char **argv, const char *opt);
int cli_fail(struct cli_buf *err, int rc, const char *what);
int cli_usage(struct cli_buf *err, const char *usage);

/* True for commands cli_exec understands. */
int cli_known(const char *command);

/* "90", "90s", "30m", "48h", "7d" -> seconds; -1 if malformed. */
long cli_parse_duration(const char *s);

#endif
