/*
 * err: error sentences and the allocation helpers every module uses.
 */
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
kith_strerror(int code)
{
    switch (code) {
    case KITH_OK:
        return "done";
    case KITH_EINVAL:
        return "that input isn't something kith can use";
    case KITH_ENOMEM:
        return "the computer is out of memory";
    case KITH_ESYS:
        return "the system refused an operation";
    case KITH_EPASSPHRASE:
        return "that passphrase didn't unlock this profile (nothing was changed)";
    case KITH_ENOTKITH:
        return "this file is not a kith profile database, so kith left it alone";
    case KITH_ECORRUPT:
        return "some stored data is damaged; kith did not change it";
    case KITH_EMALFORMED:
        return "received data was malformed and was set aside";
    case KITH_ETOOBIG:
        return "that is larger than kith allows";
    case KITH_ECRYPTO:
        return "a message failed its authenticity check and was set aside";
    case KITH_EREPLAY:
        return "that was already received";
    case KITH_ENOTFOUND:
        return "kith couldn't find that";
    case KITH_EEXISTS:
        return "that already exists";
    case KITH_EEXPIRED:
        return "that has expired";
    case KITH_EBUSY:
        return "another kith is already running on this profile";
    case KITH_EAGAIN:
        return "not possible right now; kith will try again";
    case KITH_ESTORE:
        return "the local database reported a problem";
    case KITH_ENET:
        return "a network operation failed";
    case KITH_ESELFTEST:
        return "transport authentication is not active";
    case KITH_ESTATE:
        return "that step isn't possible right now";
    case KITH_ETIMEDOUT:
        return "waited, but it hasn't happened yet (it is still saved)";
    case KITH_ENOENGINE:
        return "kith isn't running for this profile";
    default:
        return "something unexpected happened";
    }
}

_Noreturn void
kith_bug(const char *file, int line, const char *msg)
{
    fprintf(stderr, "kith: internal error at %s:%d: %s\n", file, line, msg);
    abort();
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);
    if (p == NULL) {
        KITH_BUG("out of memory");
    }
    return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);
    if (p == NULL) {
        KITH_BUG("out of memory");
    }
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n == 0 ? 1 : n);
    if (q == NULL) {
        KITH_BUG("out of memory");
    }
    return q;
}

char *
xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = xmalloc(n);
    memcpy(d, s, n);
    return d;
}
