/*
 * boundary_tz: the one impure piece of boundary, a struct boundary_clock lookup backed by the
 * system tz database. It points TZ at the zone, calls tzset() and localtime_r(), and puts TZ
 * back, so it changes process state for the duration of a call: use it from the engine's one
 * thread only. Zone names are checked first and must name a file under $TZDIR (or
 * /usr/share/zoneinfo), because glibc silently falls back to UTC for a zone it can't find.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/boundary_impl.h"

static bool
zone_file_exists(const char *tz)
{
    const char *dir = getenv("TZDIR");
    char path[256];
    struct stat sb;

    if (dir == NULL || dir[0] == '\0') {
        dir = "/usr/share/zoneinfo";
    }
    int n = snprintf(path, sizeof path, "%s/%s", dir, tz);
    if (n < 0 || (size_t)n >= sizeof path) {
        return false;
    }
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

int
boundary_tz_system(void *ctx, const char *tz, int64_t t, int *offset_s)
{
    char wanted[BOUNDARY_TZ_MAX + 1];
    char *saved = NULL;
    bool is_switched = false;
    time_t when = (time_t)t;
    struct tm tm;
    int rc = KITH_OK;

    (void)ctx;
    *offset_s = 0;
    if (tz != NULL && tz[0] != '\0') {
        if (!boundary_tz_name_ok(tz, strlen(tz)) || !zone_file_exists(tz)) {
            rc = KITH_ENOTFOUND;
            goto out;
        }
        const char *old = getenv("TZ");
        saved = old != NULL ? xstrdup(old) : NULL;
        snprintf(wanted, sizeof wanted, ":%s", tz); /* ':' = a file of the tz database */
        if (setenv("TZ", wanted, 1) != 0) {
            rc = KITH_ESYS;
            goto out;
        }
        is_switched = true;
    }
    tzset(); /* glibc's localtime_r doesn't re-read TZ by itself */
    if (localtime_r(&when, &tm) == NULL) {
        rc = KITH_EINVAL;
        goto out;
    }
    *offset_s = (int)tm.tm_gmtoff;
out:
    if (is_switched) {
        if (saved != NULL) {
            KITH_IGNORE(setenv("TZ", saved, 1)); /* restoring a value that was set before */
        } else {
            KITH_IGNORE(unsetenv("TZ")); /* only fails for an invalid name; "TZ" is valid */
        }
        tzset();
    }
    free(saved);
    return rc;
}
