/*
 * cli_profile: `kith backup FILE` on engine verbs, so a running engine can take the snapshot
 * itself. passwd, restore and wipe need no engine (or must not have one) and live in main.c.
 */
#include "core/cli.h"

#include <string.h>

#include "core/engine.h"

int
cli_backup(struct engine *e, int argc, char **argv, struct cli_buf *out, struct cli_buf *err)
{
    int rc;

    if (argc != 2 || strncmp(argv[1], "--", 2) == 0) {
        cli_printf(err, "usage: kith backup FILE\n");
        return 2;
    }
    if (argv[1][0] != '/') {
        cli_printf(err, "kith: the backup file needs an absolute path\n");
        return 2;
    }
    rc = engine_backup(e, argv[1]);
    if (rc == KITH_EEXISTS) {
        cli_printf(err,
                   "kith: %s already exists; kith never overwrites a file, so choose a new "
                   "name\n",
                   argv[1]);
        return 1;
    }
    if (rc == KITH_ESYS) {
        cli_printf(err,
                   "kith: couldn't write %s (does its directory exist?); no backup was "
                   "made\n",
                   argv[1]);
        return 1;
    }
    if (rc != KITH_OK) {
        cli_printf(err, "kith: no backup was made: %s\n", kith_strerror(rc));
        return 1;
    }
    cli_printf(out,
               "Saved a sealed backup of this profile in %s.\n"
               "It opens with your passphrase as it is now. Keep it somewhere only you can "
               "reach.\n",
               argv[1]);
    return 0;
}
