/*
 * err: kith's one list of error codes, a calm sentence for each, and the
 * abort path for our own bugs. Fallible functions return KITH_OK (0) or a
 * negative KITH_E* code.
 */
#ifndef KITH_CORE_ERR_H
#define KITH_CORE_ERR_H

#include <stddef.h>

#define KITH_NODISCARD __attribute__((warn_unused_result))
/* Deliberately ignore a fallible call's result (say why beside it). */
#define KITH_IGNORE(call)                                                                          \
    do {                                                                                           \
        int kith_ignored_ = (call);                                                                \
        (void)kith_ignored_;                                                                       \
    } while (0)

enum kith_err {
    KITH_OK = 0,
    KITH_EINVAL = -1,      /* bad argument or input from a person */
    KITH_ENOMEM = -2,      /* out of memory (normally aborts in xmalloc) */
    KITH_ESYS = -3,        /* an operating-system call failed; errno says more */
    KITH_EPASSPHRASE = -4, /* wrong passphrase, or sealed data damaged */
    KITH_ENOTKITH = -5,    /* the file is not a kith database */
    KITH_ECORRUPT = -6,    /* stored data failed its checks */
    KITH_EMALFORMED = -7,  /* bytes from outside did not parse */
    KITH_ETOOBIG = -8,     /* input larger than the limit */
    KITH_ECRYPTO = -9,     /* authentication or decryption failed */
    KITH_EREPLAY = -10,    /* already seen */
    KITH_ENOTFOUND = -11,  /* no such contact, invite, message, ... */
    KITH_EEXISTS = -12,    /* already exists (name taken, profile present) */
    KITH_EEXPIRED = -13,   /* invite or frame past its expiry */
    KITH_EBUSY = -14,      /* another engine holds the profile */
    KITH_EAGAIN = -15,     /* not now: try later (peer unreachable, queue full) */
    KITH_ESTORE = -16,     /* the database reported an error */
    KITH_ENET = -17,       /* a network call failed */
    KITH_ESELFTEST = -18,  /* transport authentication is not active */
    KITH_ESTATE = -19,     /* not allowed in the current state */
    KITH_ETIMEDOUT = -20,  /* waited long enough */
    KITH_ENOENGINE = -21,  /* no engine is running for this profile */
};

/* A calm, specific sentence for people; static storage, never NULL. */
const char *kith_strerror(int code);

/* Our own bug: print file, line and message to stderr, then abort. */
_Noreturn void kith_bug(const char *file, int line, const char *msg);
#define KITH_BUG(msg) kith_bug(__FILE__, __LINE__, (msg))

/* Allocation that aborts on failure (every message is already durable, so
 * aborting loses nothing). xcalloc zeroes. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
