#ifndef GUARD_H
#define GUARD_H
/*
 * ocpp-probe patch (build/staticx/loader.patch): whatever ends the loader, the
 * bundle directory goes away and the child does not outlive it. See guard.c.
 */
#include <sys/types.h>

/* Bundle directories of this loader; only these are ever swept. */
#define GUARD_PREFIX "staticx-locked-"

/* Open this program's own file without needing /proc; exits (UNKNOWN) if impossible.
 * *path_out gets its absolute path, or NULL when only /proc/self/exe named it. */
int guard_open_self(char **argv, char **path_out);

/* Catch every terminating signal from the start: before the child exists the
 * loader cleans up and dies of the signal; afterwards it forwards the signal. */
void guard_install_signals(void);

/* Remove stale bundles under tmproot, then create and lock a new one. */
char *guard_make_bundle(const char *tmproot);

/* Child side of fork(): die with the loader, restore the signal mask. */
void guard_child_setup(pid_t loader);

void guard_set_child(pid_t pid);

/* Wait until the child has ended, without reaping it. */
void guard_wait_child(pid_t pid);

/* Block the forwarded signals while the loader cleans up after its child. */
void guard_block_signals(void);

/* Kill the child if there is one, remove the bundle directory (async-signal-safe). */
void guard_cleanup(void);

/* Die of signal sig, as the child did, without a core file of the loader. */
void guard_die_of(int sig);

/* Remove a directory tree without following symlinks (async-signal-safe). */
int guard_remove_tree_at(int dirfd, const char *name);

#endif /* GUARD_H */
