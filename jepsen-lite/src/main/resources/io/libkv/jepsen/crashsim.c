/*
 * crashsim: an LD_PRELOAD library for jepsen-lite's "crash" nemesis, which simulates a power
 * loss: every write a process makes to a regular file under $CRASHSIM_DIR that has not been
 * made durable (fsync/fdatasync of that file, or an O_SYNC/O_DSYNC descriptor) is undone after
 * the process is killed.
 *
 * Before each such write (write, pwrite, writev, pwritev, ftruncate, fallocate) it appends an
 * undo record - offset, the file's size, the bytes about to be overwritten - to a journal per
 * file ($CRASHSIM_JOURNAL/<dev>-<inode>.undo). A successful fsync/fdatasync of the file empties
 * its journal. Unlinking a file (or renaming another over it) drops its journal: directory
 * operations count as durable at once. After kill -9, the harness applies each journal backwards
 * (Cluster.rollBackUnsynced), leaving every file as it was at its last sync: the worst case a
 * real power loss allows for file contents (it may also keep any subset of those writes).
 *
 * One mutex serialises the journalled writes and syncs (records and data stay in order); writes
 * to anything else (sockets, pipes, other files) pass straight through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAGIC 0x43525348u

struct record {
  uint32_t magic;
  uint32_t len;
  int64_t offset;
  int64_t old_size;
};

static pthread_mutex_t mu = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static char watch_dir[PATH_MAX];
static size_t watch_len;
static char journal_dir[PATH_MAX];

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off64_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_fallocate64)(int, int, off64_t, off64_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);

static void *next(const char *name) {
  void *f = dlsym(RTLD_NEXT, name);
  if (f == NULL) {
    fprintf(stderr, "crashsim: no %s in libc\n", name);
    abort();
  }
  return f;
}

__attribute__((constructor)) static void crashsim_init(void) {
  real_write = next("write");
  real_pwrite64 = next("pwrite64");
  real_writev = next("writev");
  real_pwritev64 = next("pwritev64");
  real_ftruncate64 = next("ftruncate64");
  real_fallocate64 = next("fallocate64");
  real_fsync = next("fsync");
  real_fdatasync = next("fdatasync");
  real_unlink = next("unlink");
  real_unlinkat = next("unlinkat");
  real_rename = next("rename");
  real_renameat = next("renameat");
  const char *w = getenv("CRASHSIM_DIR");
  const char *j = getenv("CRASHSIM_JOURNAL");
  if (w != NULL && j != NULL && realpath(w, watch_dir) != NULL && strlen(j) < PATH_MAX - 64) {
    strcpy(journal_dir, j);
    watch_len = strlen(watch_dir);
  }
}

static int under_watch(const char *path) {
  return watch_len > 0 && strncmp(path, watch_dir, watch_len) == 0 && path[watch_len] == '/';
}

/* Whether fd is a regular file under the watched directory whose writes are not synchronous. */
static int tracked(int fd, struct stat *st) {
  if (watch_len == 0 || fd < 0) {
    return 0;
  }
  char link[64];
  char path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) {
    return 0;
  }
  path[n] = 0;
  if (!under_watch(path) || fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
    return 0;
  }
  int flags = fcntl(fd, F_GETFL);
  return flags != -1 && (flags & (O_SYNC | O_DSYNC)) == 0;
}

static void journal_name(char *out, dev_t dev, ino_t ino) {
  snprintf(out, PATH_MAX, "%s/%lx-%lx.undo", journal_dir, (unsigned long)dev, (unsigned long)ino);
}

static void write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = real_write(fd, p, len);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      fprintf(stderr, "crashsim: cannot write the undo journal: %s\n", strerror(errno));
      abort();
    }
    p += w;
    len -= (size_t)w;
  }
}

/* Saves what a write of len bytes at offset would destroy. Called with mu held. */
static void save(int fd, const struct stat *st, int64_t offset, size_t len) {
  struct record r = {MAGIC, 0, offset, (int64_t)st->st_size};
  char *old = NULL;
  if (offset < st->st_size && len > 0) {
    int64_t end = offset + (int64_t)len;
    if (end > st->st_size) {
      end = st->st_size;
    }
    r.len = (uint32_t)(end - offset);
    old = malloc(r.len);
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    int rfd = open(link, O_RDONLY | O_CLOEXEC);
    if (old == NULL || rfd < 0 || pread(rfd, old, r.len, offset) != (ssize_t)r.len) {
      fprintf(stderr, "crashsim: cannot read the bytes a write replaces: %s\n", strerror(errno));
      abort();
    }
    close(rfd);
  }
  char jpath[PATH_MAX];
  journal_name(jpath, st->st_dev, st->st_ino);
  int jfd = open(jpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (jfd < 0) {
    fprintf(stderr, "crashsim: cannot open %s: %s\n", jpath, strerror(errno));
    abort();
  }
  write_all(jfd, &r, sizeof r);
  if (r.len > 0) {
    write_all(jfd, old, r.len);
  }
  close(jfd);
  free(old);
}

static int64_t position(int fd, const struct stat *st) {
  int flags = fcntl(fd, F_GETFL);
  if (flags != -1 && (flags & O_APPEND)) {
    return st->st_size;
  }
  return lseek(fd, 0, SEEK_CUR);
}

static size_t total(const struct iovec *iov, int n) {
  size_t t = 0;
  for (int i = 0; i < n; i++) {
    t += iov[i].iov_len;
  }
  return t;
}

ssize_t write(int fd, const void *buf, size_t len) {
  struct stat st;
  if (!tracked(fd, &st)) {
    return real_write(fd, buf, len);
  }
  pthread_mutex_lock(&mu);
  fstat(fd, &st);
  save(fd, &st, position(fd, &st), len);
  ssize_t r = real_write(fd, buf, len);
  pthread_mutex_unlock(&mu);
  return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t offset) {
  struct stat st;
  if (!tracked(fd, &st)) {
    return real_pwrite64(fd, buf, len, offset);
  }
  pthread_mutex_lock(&mu);
  fstat(fd, &st);
  save(fd, &st, offset, len);
  ssize_t r = real_pwrite64(fd, buf, len, offset);
  pthread_mutex_unlock(&mu);
  return r;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t offset) {
  return pwrite64(fd, buf, len, offset);
}

ssize_t writev(int fd, const struct iovec *iov, int n) {
  struct stat st;
  if (!tracked(fd, &st)) {
    return real_writev(fd, iov, n);
  }
  pthread_mutex_lock(&mu);
  fstat(fd, &st);
  save(fd, &st, position(fd, &st), total(iov, n));
  ssize_t r = real_writev(fd, iov, n);
  pthread_mutex_unlock(&mu);
  return r;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off64_t offset) {
  struct stat st;
  if (!tracked(fd, &st)) {
    return real_pwritev64(fd, iov, n, offset);
  }
  pthread_mutex_lock(&mu);
  fstat(fd, &st);
  save(fd, &st, offset, total(iov, n));
  ssize_t r = real_pwritev64(fd, iov, n, offset);
  pthread_mutex_unlock(&mu);
  return r;
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t offset) {
  return pwritev64(fd, iov, n, offset);
}

int ftruncate64(int fd, off64_t len) {
  struct stat st;
  if (!tracked(fd, &st)) {
    return real_ftruncate64(fd, len);
  }
  pthread_mutex_lock(&mu);
  fstat(fd, &st);
  if (len < st.st_size) {
    save(fd, &st, len, (size_t)(st.st_size - len));
  } else {
    save(fd, &st, st.st_size, 0);
  }
  int r = real_ftruncate64(fd, len);
  pthread_mutex_unlock(&mu);
  return r;
}

int ftruncate(int fd, off_t len) {
  return ftruncate64(fd, len);
}

int fallocate64(int fd, int mode, off64_t offset, off64_t len) {
  struct stat st;
  if (!tracked(fd, &st)) {
    return real_fallocate64(fd, mode, offset, len);
  }
  pthread_mutex_lock(&mu);
  fstat(fd, &st);
  save(fd, &st, st.st_size, 0);
  int r = real_fallocate64(fd, mode, offset, len);
  pthread_mutex_unlock(&mu);
  return r;
}

int fallocate(int fd, int mode, off_t offset, off_t len) {
  return fallocate64(fd, mode, offset, len);
}

static int synced(int fd, int r) {
  struct stat st;
  if (r == 0 && tracked(fd, &st)) {
    char jpath[PATH_MAX];
    journal_name(jpath, st.st_dev, st.st_ino);
    truncate(jpath, 0);
  }
  return r;
}

int fsync(int fd) {
  pthread_mutex_lock(&mu);
  int r = synced(fd, real_fsync(fd));
  pthread_mutex_unlock(&mu);
  return r;
}

int fdatasync(int fd) {
  pthread_mutex_lock(&mu);
  int r = synced(fd, real_fdatasync(fd));
  pthread_mutex_unlock(&mu);
  return r;
}

/* The file at path is about to disappear (or be replaced): forget its journal. */
static void forget(int dirfd, const char *path) {
  if (watch_len == 0) {
    return;
  }
  struct stat st;
  if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)
      && st.st_nlink == 1) {
    char jpath[PATH_MAX];
    journal_name(jpath, st.st_dev, st.st_ino);
    real_unlink(jpath);
  }
}

int unlink(const char *path) {
  pthread_mutex_lock(&mu);
  forget(AT_FDCWD, path);
  int r = real_unlink(path);
  pthread_mutex_unlock(&mu);
  return r;
}

int unlinkat(int dirfd, const char *path, int flags) {
  pthread_mutex_lock(&mu);
  if ((flags & AT_REMOVEDIR) == 0) {
    forget(dirfd, path);
  }
  int r = real_unlinkat(dirfd, path, flags);
  pthread_mutex_unlock(&mu);
  return r;
}

int rename(const char *from, const char *to) {
  pthread_mutex_lock(&mu);
  forget(AT_FDCWD, to);
  int r = real_rename(from, to);
  pthread_mutex_unlock(&mu);
  return r;
}

int renameat(int fromdir, const char *from, int todir, const char *to) {
  pthread_mutex_lock(&mu);
  forget(todir, to);
  int r = real_renameat(fromdir, from, todir, to);
  pthread_mutex_unlock(&mu);
  return r;
}
