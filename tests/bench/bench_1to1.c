/*
 * bench_1to1: one run, one machine, loopback. Measures side by side:
 *   1. raw libzmq CURVE round trip of a 256-byte message (DEALER <-> ROUTER);
 *   2. one durable SQLite commit (WAL, synchronous=FULL, one 300-byte row),
 *      and batched durable inserts (64 rows per commit) of the same rows;
 *   3. kith 1:1 latency from engine_send until the sender holds the
 *      end-to-end acknowledgement (receiver committed first), p50 and p99;
 *   4. kith burst: N messages queued with engine_send_batch until all are
 *      acknowledged.
 * and prints the ratios the foundation issue sets as targets:
 *   p50 <= 1.5 x (CURVE RTT + 2 durable commits), burst >= 0.5 x batched inserts.
 * Usage: bench_1to1 [LATENCY_MSGS=1000] [BURST_MSGS=10000]
 */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "core/engine.h"
#include "core/kcrypt.h"

static double
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CPU time (user + system) of this process or of its waited-for children. */
static double
cpu_us(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[(size_t)((double)(n - 1) * p)];
}

static void
die(const char *what)
{
    fprintf(stderr, "bench: %s failed\n", what);
    exit(1);
}

static double
bench_curve_rtt(int rounds)
{
    char spk[41], ssk[41], cpk[41], csk[41];
    char endpoint[256];
    size_t len = sizeof endpoint;
    unsigned char msg[256];
    double *v = calloc((size_t)rounds, sizeof *v);
    void *ctx = zmq_ctx_new();
    void *srv = zmq_socket(ctx, ZMQ_ROUTER);
    void *cli = zmq_socket(ctx, ZMQ_DEALER);
    int one = 1;
    double p50;

    zmq_curve_keypair(spk, ssk);
    zmq_curve_keypair(cpk, csk);
    zmq_setsockopt(srv, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(srv, ZMQ_CURVE_SECRETKEY, ssk, 40);
    if (zmq_bind(srv, "tcp://127.0.0.1:*") != 0) {
        die("bind");
    }
    zmq_getsockopt(srv, ZMQ_LAST_ENDPOINT, endpoint, &len);
    zmq_setsockopt(cli, ZMQ_CURVE_SERVERKEY, spk, 40);
    zmq_setsockopt(cli, ZMQ_CURVE_PUBLICKEY, cpk, 40);
    zmq_setsockopt(cli, ZMQ_CURVE_SECRETKEY, csk, 40);
    zmq_connect(cli, endpoint);
    randombytes_buf(msg, sizeof msg);
    for (int i = -50; i < rounds; i++) { /* 50 warm-up rounds */
        unsigned char id[256], buf[512];
        double t0 = now_us();
        int idn;
        zmq_send(cli, msg, sizeof msg, 0);
        idn = zmq_recv(srv, id, sizeof id, 0);
        zmq_recv(srv, buf, sizeof buf, 0);
        zmq_send(srv, id, (size_t)idn, ZMQ_SNDMORE);
        zmq_send(srv, buf, sizeof msg, 0);
        zmq_recv(cli, buf, sizeof buf, 0);
        if (i >= 0) {
            v[i] = now_us() - t0;
        }
    }
    p50 = pct(v, (size_t)rounds, 0.5);
    free(v);
    zmq_close(cli);
    zmq_close(srv);
    zmq_ctx_term(ctx);
    return p50;
}

/* The same round trip between two processes, as two kith peers make it: a forked echo server
 * with its own context (and I/O thread), so each direction crosses threads and processes. */
static double
bench_curve_rtt_procs(int rounds)
{
    char spk[41], ssk[41], cpk[41], csk[41];
    char endpoint[256];
    unsigned char msg[256];
    double *v = calloc((size_t)rounds, sizeof *v);
    int fds[2];
    pid_t kid;
    double p50;

    zmq_curve_keypair(spk, ssk);
    zmq_curve_keypair(cpk, csk);
    if (pipe(fds) != 0) {
        die("pipe");
    }
    kid = fork();
    if (kid == 0) {
        void *ctx = zmq_ctx_new();
        void *srv = zmq_socket(ctx, ZMQ_ROUTER);
        size_t len = sizeof endpoint;
        int one = 1;
        zmq_setsockopt(srv, ZMQ_CURVE_SERVER, &one, sizeof one);
        zmq_setsockopt(srv, ZMQ_CURVE_SECRETKEY, ssk, 40);
        if (zmq_bind(srv, "tcp://127.0.0.1:*") != 0) {
            _exit(1);
        }
        zmq_getsockopt(srv, ZMQ_LAST_ENDPOINT, endpoint, &len);
        if (write(fds[1], endpoint, sizeof endpoint) != (ssize_t)sizeof endpoint) {
            _exit(1);
        }
        for (;;) {
            unsigned char id[256], buf[512];
            int idn = zmq_recv(srv, id, sizeof id, 0);
            int n = zmq_recv(srv, buf, sizeof buf, 0);
            if (idn < 0 || n <= 0) {
                _exit(1);
            }
            if (n == 1) {
                break; /* the parent is done */
            }
            zmq_send(srv, id, (size_t)idn, ZMQ_SNDMORE);
            zmq_send(srv, buf, (size_t)n, 0);
        }
        zmq_close(srv);
        zmq_ctx_term(ctx);
        _exit(0);
    }
    close(fds[1]);
    if (kid < 0 || read(fds[0], endpoint, sizeof endpoint) != (ssize_t)sizeof endpoint) {
        die("echo server");
    }
    close(fds[0]);
    {
        void *ctx = zmq_ctx_new();
        void *cli = zmq_socket(ctx, ZMQ_DEALER);
        int zero = 0;
        zmq_setsockopt(cli, ZMQ_CURVE_SERVERKEY, spk, 40);
        zmq_setsockopt(cli, ZMQ_CURVE_PUBLICKEY, cpk, 40);
        zmq_setsockopt(cli, ZMQ_CURVE_SECRETKEY, csk, 40);
        zmq_setsockopt(cli, ZMQ_LINGER, &zero, sizeof zero);
        zmq_connect(cli, endpoint);
        randombytes_buf(msg, sizeof msg);
        for (int i = -50; i < rounds; i++) { /* 50 warm-up rounds */
            unsigned char buf[512];
            double t0 = now_us();
            zmq_send(cli, msg, sizeof msg, 0);
            zmq_recv(cli, buf, sizeof buf, 0);
            if (i >= 0) {
                v[i] = now_us() - t0;
            }
        }
        zmq_send(cli, "x", 1, 0);
        zmq_close(cli);
        zmq_ctx_term(ctx);
    }
    waitpid(kid, NULL, 0);
    p50 = pct(v, (size_t)rounds, 0.5);
    free(v);
    return p50;
}

/* p50 of single-row durable commits, and rows/s of 64-row batches. */
static void
bench_sqlite(const char *dir, int rows, double *commit_us, double *batch_rate)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *ins;
    unsigned char blob[300];
    double *v = calloc(200, sizeof *v);
    double t0;

    snprintf(path, sizeof path, "%s/baseline.db", dir);
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        die("sqlite open");
    }
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE t(id BLOB PRIMARY KEY, v BLOB)",
                 NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?,?)", -1, &ins, NULL);
    randombytes_buf(blob, sizeof blob);
    for (int i = 0; i < 200; i++) {
        unsigned char id[16];
        randombytes_buf(id, sizeof id);
        t0 = now_us();
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        sqlite3_bind_blob(ins, 1, id, 16, SQLITE_TRANSIENT);
        sqlite3_bind_blob(ins, 2, blob, sizeof blob, SQLITE_TRANSIENT);
        sqlite3_step(ins);
        sqlite3_reset(ins);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        v[i] = now_us() - t0;
    }
    *commit_us = pct(v, 200, 0.5);
    t0 = now_us();
    for (int i = 0; i < rows; i += 64) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (int k = 0; k < 64 && i + k < rows; k++) {
            unsigned char id[16];
            randombytes_buf(id, sizeof id);
            sqlite3_bind_blob(ins, 1, id, 16, SQLITE_TRANSIENT);
            sqlite3_bind_blob(ins, 2, blob, sizeof blob, SQLITE_TRANSIENT);
            sqlite3_step(ins);
            sqlite3_reset(ins);
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    *batch_rate = rows / ((now_us() - t0) / 1e6);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    free(v);
}

static const char *PASS = "bench passphrase";

static void
profile(const char *home, const char *name)
{
    if (engine_init_profile(home, name, "tcp://127.0.0.1:*", PASS, strlen(PASS), true) != 0) {
        die("init");
    }
}

static struct engine *
open_started(const char *home)
{
    struct engine *e = NULL;
    if (engine_open(home, PASS, strlen(PASS), &e) != 0 || engine_start(e) != 0) {
        die("engine start");
    }
    return e;
}

static int
is_delivered(struct engine *e, const char *id)
{
    const char *st = NULL;
    return engine_msg_state(e, id, &st) == 0 && strcmp(st, "delivered") == 0;
}

/* The latency probe in flight: checked after every committed receive batch, so the time is
 * taken when the sender records the acknowledgement, not after the loop's timers. */
struct probe {
    struct engine *e;
    const char *id;
    double done_us;
};

static void
probe_check(void *ctx)
{
    struct probe *pr = ctx;

    if (pr->done_us == 0 && pr->id != NULL && is_delivered(pr->e, pr->id)) {
        pr->done_us = now_us();
    }
}

static int
all_delivered(struct engine *e, size_t n)
{
    struct engine_status s;
    (void)n;
    return engine_status(e, &s) == 0 && s.queued == 0;
}

int
main(int argc, char **argv)
{
    int lat_n = argc > 1 ? atoi(argv[1]) : 1000;
    int burst_n = argc > 2 ? atoi(argv[2]) : 10000;
    char dir[] = "/tmp/kith-bench-XXXXXX";
    char a_home[256], b_home[256], code[ENGINE_INVITE_BUF], name[ENGINE_NAME_BUF];
    double rtt, rtt2, commit, batch_rate;
    double *lat;
    double *seal;
    struct engine *a;
    pid_t kid;
    char **texts;
    double t0, burst_s, queued_s;
    double cpu0;
    struct probe probe = { 0 };

    /* As the kith binary does (main.c). */
    if (kcrypt_rng_install() != KITH_OK || sodium_init() < 0 || mkdtemp(dir) == NULL) {
        die("setup");
    }
    rtt = bench_curve_rtt(2000);
    rtt2 = bench_curve_rtt_procs(2000);
    bench_sqlite(dir, burst_n, &commit, &batch_rate);

    snprintf(a_home, sizeof a_home, "%s/a", dir);
    snprintf(b_home, sizeof b_home, "%s/b", dir);
    profile(a_home, "A");
    profile(b_home, "B");
    {
        struct engine *b = NULL;
        if (engine_open(b_home, PASS, strlen(PASS), &b) != 0 || engine_invite(b, 0, code) != 0) {
            die("invite");
        }
        engine_close(b);
    }
    kid = fork();
    if (kid == 0) {
        struct engine *b = open_started(b_home);
        int rc = engine_run(b);
        engine_close(b);
        _exit(rc == 0 ? 0 : 1);
    }
    a = open_started(a_home);
    if (engine_accept(a, code, "B", name) != 0) {
        die("accept");
    }
    for (double end = now_us() + 20e6; now_us() < end;) {
        struct engine_contact c;
        if (engine_contact(a, "B", &c) == 0 && !c.pending) {
            break;
        }
        if (engine_step(a, 50) != 0) {
            die("step");
        }
    }

    probe.e = a;
    engine_set_on_batch(a, probe_check, &probe);
    lat = calloc((size_t)lat_n, sizeof *lat);
    seal = calloc((size_t)lat_n, sizeof *seal);
    for (int i = -20; i < lat_n; i++) {
        char id[ENGINE_ID_HEX];
        char text[64];
        double s0 = now_us();
        snprintf(text, sizeof text, "latency probe %d", i);
        if (engine_send(a, "B", text, 0, id) != 0) {
            die("send");
        }
        if (i >= 0) {
            seal[i] = now_us() - s0;
        }
        probe.id = id;
        probe.done_us = 0;
        while (probe.done_us == 0) {
            if (engine_step(a, 100) != 0 || now_us() - s0 > 10e6) {
                die("latency wait");
            }
        }
        probe.id = NULL;
        if (i >= 0) {
            lat[i] = probe.done_us - s0;
        }
    }

    texts = calloc((size_t)burst_n, sizeof *texts);
    for (int i = 0; i < burst_n; i++) {
        texts[i] = malloc(48);
        snprintf(texts[i], 48, "burst message number %d", i);
    }
    cpu0 = cpu_us(RUSAGE_SELF);
    t0 = now_us();
    if (engine_send_batch(a, "B", (const char *const *)texts, (size_t)burst_n, 0, NULL) != 0) {
        die("burst send");
    }
    queued_s = (now_us() - t0) / 1e6;
    while (!all_delivered(a, (size_t)burst_n)) {
        if (engine_step(a, 100) != 0 || now_us() - t0 > 300e6) {
            die("burst wait");
        }
    }
    burst_s = (now_us() - t0) / 1e6;

    {
        double p50 = pct(lat, (size_t)lat_n, 0.5);
        double p99 = pct(lat, (size_t)lat_n, 0.99);
        double budget = rtt + 2 * commit;
        double rate = burst_n / burst_s;
        printf("raw CURVE RTT (256 B), p50            %8.1f us\n", rtt);
        printf("raw CURVE RTT, two processes, p50     %8.1f us\n", rtt2);
        printf("durable SQLite commit (1 row), p50    %8.1f us\n", commit);
        printf("batched durable inserts (64/commit)   %8.0f rows/s\n", batch_rate);
        printf("kith send->acked latency, p50         %8.1f us\n", p50);
        printf("kith send->acked latency, p99         %8.1f us\n", p99);
        printf("  of which engine_send (seal+commit+hand over), p50 %8.1f us\n",
               pct(seal, (size_t)lat_n, 0.5));
        printf("kith burst of %d                   %8.0f msgs/s (%.2f s)\n", burst_n, rate,
               burst_s);
        printf("  of which engine_send_batch (all sealed, committed, handed over) %.2f s;"
               " sender CPU %.2f s\n",
               queued_s, (cpu_us(RUSAGE_SELF) - cpu0) / 1e6);
        printf("ratio p50 / (RTT + 2 commits)         %8.2f   (target <= 1.5)\n", p50 / budget);
        printf("ratio burst / batched inserts         %8.2f   (target >= 0.5)\n",
               rate / batch_rate);
    }
    engine_close(a);
    kill(kid, SIGTERM);
    waitpid(kid, NULL, 0);
    printf("receiver process CPU, whole run          %8.2f s\n", cpu_us(RUSAGE_CHILDREN) / 1e6);
    for (int i = 0; i < burst_n; i++) {
        free(texts[i]);
    }
    free(texts);
    free(lat);
    free(seal);
    {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "bench: could not remove %s\n", dir);
        }
    }
    return 0;
}
