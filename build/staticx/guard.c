/*
 * ocpp-probe patch (build/staticx/loader.patch, reasons in build/staticx/README.md):
 *
 * - the loader finds its own file without /proc (AT_EXECFN, then argv[0] and PATH);
 * - every terminating signal is caught from the first instruction on: before the
 *   child exists (while unpacking) the loader removes the bundle and dies of the
 *   signal; while the child runs the signal is forwarded to it; a crash of the
 *   loader kills the child and removes the bundle before the loader dies;
 * - the child gets PR_SET_PDEATHSIG(SIGKILL): it never outlives the loader;
 * - each bundle directory is locked (flock) for the lifetime of its loader and
 *   child; the next start removes this user's unlocked bundles, i.e. those left
 *   by a SIGKILL, and never a live one (see guard_make_bundle for the race).
 *
 * Everything reachable from a signal handler here is async-signal-safe (raw
 * syscalls, no stdio, no malloc).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/auxv.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "error.h"
#include "guard.h"

static char g_bundle[PATH_MAX];
static volatile sig_atomic_t g_bundle_set;
static volatile pid_t g_child;
static volatile sig_atomic_t g_sent;   /* last signal forwarded to the child */
static int g_keep;
static sigset_t g_forwarded;
static sigset_t g_old_mask;
static int g_blocked;

/* Signals whose default action ends the process and that come from outside. */
static const int FORWARD[] = {
    SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE,
    SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO,
#ifdef SIGPWR
    SIGPWR,
#endif
#ifdef SIGSTKFLT
    SIGSTKFLT,
#endif
};
/* Signals of a fault in the loader itself. */
static const int CRASH[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* --- removing a tree, async-signal-safe ------------------------------------ */

struct raw_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int
remove_at(int dirfd, const char *name, int depth)
{
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if ((errno != EISDIR && errno != EPERM) || depth > 32)
        return -1;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* Entries removed while reading may shift others: read again until empty. */
    for (int pass = 0; pass < 4; pass++) {
        char buf[2048] __attribute__((aligned(8)));
        long n;
        lseek(fd, 0, SEEK_SET);
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
            for (long off = 0; off < n; ) {
                struct raw_dirent64 *e = (struct raw_dirent64 *)(buf + off);
                off += e->d_reclen;
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                remove_at(fd, e->d_name, depth + 1);
            }
        }
        if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) {
            close(fd);
            return 0;
        }
        if (errno != ENOTEMPTY && errno != EEXIST)
            break;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int
guard_remove_tree_at(int dirfd, const char *name)
{
    return remove_at(dirfd, name, 0);
}

/* --- signals ---------------------------------------------------------------- */

void
guard_cleanup(void)
{
    int saved = errno;
    pid_t child = g_child;
    if (child > 0) {
        kill(child, SIGKILL);
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
            ;
        g_child = 0;
    }
    if (g_bundle_set && !g_keep) {
        g_bundle_set = 0;
        guard_remove_tree_at(AT_FDCWD, g_bundle);
    }
    errno = saved;
}

void
guard_die_of(int sig)
{
    /* No core file from the loader: it would be litter in the working directory. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, NULL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    kill(getpid(), sig);
    _exit(128 + sig);   /* only if the signal did not end the process */
}

static void
on_forward(int sig)
{
    pid_t child = g_child;
    if (child > 0) {
        int saved = errno;
        kill(child, sig);
        g_sent = sig;
        errno = saved;
        return;
    }
    /* No child (still unpacking): clean up and die of the signal. */
    guard_cleanup();
    guard_die_of(sig);
}

static void
on_child(int sig)
{
    (void)sig;  /* only wakes sigsuspend() in guard_wait_child */
}

static void
on_crash(int sig)
{
    guard_cleanup();
    guard_die_of(sig);
}

static void
install(int sig, void (*handler)(int), int flags, int forwarded)
{
    struct sigaction old;
    if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
        return;     /* ignored by whoever started us (nohup): the child inherits that */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigfillset(&sa.sa_mask);    /* nothing interrupts a cleanup */
    if (sigaction(sig, &sa, NULL) < 0)
        return;     /* e.g. a real-time signal QEMU keeps for itself: nobody can send it */
    if (forwarded)
        sigaddset(&g_forwarded, sig);
}

void
guard_install_signals(void)
{
    g_keep = getenv("STATICX_KEEP_TEMPS") != NULL;
    sigemptyset(&g_forwarded);
    for (size_t i = 0; i < COUNT(FORWARD); i++)
        install(FORWARD[i], on_forward, SA_RESTART, 1);
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
        install(sig, on_forward, SA_RESTART, 1);
    for (size_t i = 0; i < COUNT(CRASH); i++)
        install(CRASH[i], on_crash, SA_RESETHAND, 0);
    install(SIGCHLD, on_child, SA_RESTART | SA_NOCLDSTOP, 0);
}

void
guard_block_signals(void)
{
    sigset_t old;
    sigprocmask(SIG_BLOCK, &g_forwarded, &old);
    if (!g_blocked) {
        g_old_mask = old;
        g_blocked = 1;
    }
}

static void
unblock_signals(void)
{
    if (g_blocked) {
        g_blocked = 0;
        sigprocmask(SIG_SETMASK, &g_old_mask, NULL);
    }
}

void
guard_set_child(pid_t pid)
{
    g_child = pid;
    if (pid > 0)
        unblock_signals();
}

/*
 * Wait for the child's end with ppoll() and the signals blocked in between (the
 * race-free form: a signal that comes while the loader checks the child stays
 * pending until ppoll() lets it in). Under qemu-user a forwarded signal was lost
 * about once in 50 runs (measured with the arm64 binary; never natively in 150): the
 * probe ran on. So while a signal the loader forwarded has not ended the child, it is
 * sent again every 500 ms, for 5 s at most (the probe takes a repeated SIGTERM or
 * SIGINT as one; a signal it ignores, like SIGPIPE, stops being repeated).
 */
void
guard_wait_child(pid_t pid)
{
    sigset_t block, waitmask;
    block = g_forwarded;
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGCHLD);
    const struct timespec half_second = { 0, 500000000 };
    int repeats = 0;
    for (;;) {
        siginfo_t info;
        memset(&info, 0, sizeof(info));
        int rc = waitid(P_PID, pid, &info, WEXITED | WNOWAIT | WNOHANG);
        if (rc == 0 && info.si_pid == pid)
            break;
        if (rc < 0 && errno != EINTR)
            error(2, errno, "Failed to wait for child process %d", pid);
        int sig = g_sent;
        if (ppoll(NULL, 0, sig ? &half_second : NULL, &waitmask) == 0 && sig) {
            kill(pid, sig);
            if (++repeats >= 10)
                g_sent = 0;
        }
    }
    sigprocmask(SIG_SETMASK, &waitmask, NULL);
}

void
guard_child_setup(pid_t loader)
{
    /* The handlers stay installed until execv(): they must not touch the bundle. */
    g_bundle_set = 0;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != loader)
        _exit(3);   /* the loader is already gone: nobody would clean up after us */
    unblock_signals();
}

/* --- the bundle directory ---------------------------------------------------- */

static char *
join(const char *a, const char *b)
{
    char *r;
    if (asprintf(&r, "%s/%s", a, b) < 0)
        error(2, 0, "Failed to allocate path string");
    return r;
}

/* Remove this user's bundles that no live loader holds locked. */
static void
sweep(int rootfd)
{
    int fd = dup(rootfd);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return;
    }
    const size_t plen = strlen(GUARD_PREFIX);
    uid_t me = geteuid();
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strncmp(e->d_name, GUARD_PREFIX, plen) != 0 || strlen(e->d_name) != plen + 6)
            continue;
        int bfd = openat(rootfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (bfd < 0)
            continue;
        struct stat st;
        if (fstat(bfd, &st) == 0 && st.st_uid == me && flock(bfd, LOCK_EX | LOCK_NB) == 0)
            guard_remove_tree_at(rootfd, e->d_name);
        close(bfd);
    }
    closedir(dir);
}

/*
 * A bundle is visible (mkdtemp) a moment before its loader locks it. So that a
 * sweep never takes such a young bundle for a stale one, creating and locking a
 * bundle happens under a shared flock on $TMPDIR itself, and a sweep runs only
 * under the exclusive one (skipped when another loader is in that window).
 */
char *
guard_make_bundle(const char *tmproot)
{
    int rootfd = open(tmproot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd >= 0) {
        if (flock(rootfd, LOCK_EX | LOCK_NB) == 0) {
            sweep(rootfd);
            flock(rootfd, LOCK_SH);
        } else {
            /* Another loader sweeps (for a few ms at most); never hang on a foreign
             * lock, nor wait where flock is not supported at all. */
            for (int i = 0; i < 200 && flock(rootfd, LOCK_SH | LOCK_NB) != 0
                            && errno == EWOULDBLOCK; i++)
                usleep(5000);
        }
    }
    char *dir = join(tmproot, GUARD_PREFIX "XXXXXX");
    if (strlen(dir) >= sizeof(g_bundle))
        error(2, ENAMETOOLONG, "Failed to create temporary directory in %s", tmproot);
    if (!mkdtemp(dir))
        error(2, errno, "Failed to create temporary directory in %s", tmproot);
    strcpy(g_bundle, dir);
    g_bundle_set = 1;
    /* Not O_CLOEXEC: the child inherits the lock, which lasts as long as either lives.
     * Where flock does not work (some network file systems) no sweep can lock the
     * directory either, so it is never taken for a stale one: go on without. */
    int lockfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (lockfd >= 0 && flock(lockfd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
        error(2, 0, "Failed to lock %s: another process holds it", dir);
    if (rootfd >= 0)
        close(rootfd);  /* releases the shared lock */
    return dir;
}

/* --- finding our own file ----------------------------------------------------- */

static int
open_candidate(const char *path, char **path_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    *path_out = realpath(path, NULL);
    return fd;
}

int
guard_open_self(char **argv, char **path_out)
{
    *path_out = NULL;
    /* /proc/self/exe also works when the file was replaced or deleted meanwhile. */
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        *path_out = realpath("/proc/self/exe", NULL);
        return fd;
    }
    /* The path execve() was given, relative to the unchanged working directory. */
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    if (execfn && *execfn && (fd = open_candidate(execfn, path_out)) >= 0)
        return fd;
    const char *argv0 = argv[0];
    if (argv0 && strchr(argv0, '/')) {
        if ((fd = open_candidate(argv0, path_out)) >= 0)
            return fd;
    } else if (argv0 && *argv0) {
        const char *path = getenv("PATH");
        while (path && *path) {
            const char *end = strchrnul(path, ':');
            char *dir = strndup(path, end - path);
            char *cand = join(*dir ? dir : ".", argv0);
            if (access(cand, X_OK) == 0)
                fd = open_candidate(cand, path_out);
            free(cand);
            free(dir);
            if (fd >= 0)
                return fd;
            path = *end ? end + 1 : end;
        }
    }
    error(2, 0, "cannot open its own file to unpack it (no /proc/self/exe, and neither"
          " AT_EXECFN nor argv[0] \"%s\" leads to it): mount /proc or start it by its path",
          argv0 ? argv0 : "");
    return -1;
}
