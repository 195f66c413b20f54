/*
 * crashsim: an LD_PRELOAD library for jepsen-lite's "crash" nemesis, which simulates a power
 * loss: every write a process makes to a regular file under $CRASHSIM_DIR that has not been
 * made durable (fsync/fdatasync of that file, or an O_SYNC/O_DSYNC descriptor) is undone after
 * the process is killed.
 *
 * Before a write (write, pwrite, writev, pwritev, ftruncate, fallocate) destroys bytes that were
 * in the file at its last sync, it appends an undo record - offset, the file's size, those bytes -
 * to a journal per file ($CRASHSIM_JOURNAL/<dev>-<inode>.undo). Only the first write to each
 * 4 KiB block since the last sync is journalled (later ones destroy nothing the block's first
 * record does not restore), bytes past the size the file had at its last sync are never
 * journalled (the first record after a sync carries that size, and rolling back cuts the file to
 * it). A successful fsync/fdatasync of the file empties its journal. Unlinking a file (or
 * renaming another over it) drops its journal: directory operations count as durable at once.
 * After kill -9, the harness applies each journal backwards (CrashSim.rollBack), leaving every
 * file as it was at its last sync: the worst case a real power loss allows for file contents (it
 * may also keep any subset of those writes). A file this process had not written before counts
 * as synced as it is (the harness rolls back before it restarts a crashed node; after a plain
 * kill -9 the dead process's records stay in the journal, before this process's).
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
#define BLOCK 4096
#define MAX_FILES 512

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

/*
 * What this process knows of a file since its last sync: the size it had then, whether that
 * size is in the journal yet, and which blocks below that size are journalled.
 */
struct file_state {
  dev_t dev;
  ino_t ino;
  int used;
  int64_t synced_size;
  int size_saved;
  unsigned char *saved; /* one bit per block below synced_size */
};

static struct file_state files[MAX_FILES];

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

/* Appends one record and its bytes (read from fd) to the file's journal, in one write. */
static void append_record(int fd, const struct stat *st, int64_t offset, uint32_t len) {
  struct record r = {MAGIC, len, offset, (int64_t)st->st_size};
  char *buf = malloc(sizeof r + len);
  if (buf == NULL) {
    fprintf(stderr, "crashsim: out of memory\n");
    abort();
  }
  memcpy(buf, &r, sizeof r);
  if (len > 0) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    int rfd = open(link, O_RDONLY | O_CLOEXEC);
    if (rfd < 0 || pread(rfd, buf + sizeof r, len, offset) != (ssize_t)len) {
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
  write_all(jfd, buf, sizeof r + len); /* one write: a kill leaves no half record in the middle */
  close(jfd);
  free(buf);
}

/* The state of a file, made (as synced at its current size) on first sight; NULL if full. */
static struct file_state *state_of(const struct stat *st) {
  struct file_state *free_slot = NULL;
  for (int i = 0; i < MAX_FILES; i++) {
    if (files[i].used && files[i].dev == st->st_dev && files[i].ino == st->st_ino) {
      return &files[i];
    }
    if (!files[i].used && free_slot == NULL) {
      free_slot = &files[i];
    }
  }
  if (free_slot != NULL) {
    size_t blocks = (size_t)((st->st_size + BLOCK - 1) / BLOCK);
    free_slot->saved = calloc(blocks / 8 + 1, 1);
    if (free_slot->saved == NULL) {
      return NULL;
    }
    free_slot->used = 1;
    free_slot->dev = st->st_dev;
    free_slot->ino = st->st_ino;
    free_slot->synced_size = st->st_size;
    free_slot->size_saved = 0;
  }
  return free_slot;
}

static void drop_state(dev_t dev, ino_t ino) {
  for (int i = 0; i < MAX_FILES; i++) {
    if (files[i].used && files[i].dev == dev && files[i].ino == ino) {
      free(files[i].saved);
      memset(&files[i], 0, sizeof files[i]);
    }
  }
}

/*
 * Saves what a change of the bytes [offset, offset + len) would destroy of the file as it was at
 * its last sync. Called with mu held.
 */
static void save(int fd, const struct stat *st, int64_t offset, size_t len) {
  struct file_state *fs = state_of(st);
  if (fs == NULL) {
    /* Too many files: journal the whole range, as if every write were the first. */
    int64_t end = offset + (int64_t)len;
    if (end > st->st_size) {
      end = st->st_size;
    }
    append_record(fd, st, offset, offset < end ? (uint32_t)(end - offset) : 0);
    return;
  }
  if (!fs->size_saved) {
    /* Applied last when rolling back: the file gets its synced size back. */
    struct stat at_sync = *st;
    at_sync.st_size = (off_t)fs->synced_size;
    append_record(fd, &at_sync, 0, 0);
    fs->size_saved = 1;
  }
  int64_t end = offset + (int64_t)len;
  if (end > fs->synced_size) {
    end = fs->synced_size;
  }
  if (len == 0 || offset >= end) {
    return;
  }
  for (int64_t b = offset / BLOCK; b * BLOCK < end; b++) {
    if (fs->saved[b / 8] & (1u << (b % 8))) {
      continue;
    }
    /* Unjournalled, so untouched since the sync: the file still holds all of it. */
    int64_t from = b * BLOCK;
    int64_t to = from + BLOCK < fs->synced_size ? from + BLOCK : fs->synced_size;
    append_record(fd, st, from, (uint32_t)(to - from));
    fs->saved[b / 8] |= (unsigned char)(1u << (b % 8));
  }
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
    drop_state(st.st_dev, st.st_ino); /* seen again at its synced size on its next write */
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
    drop_state(st.st_dev, st.st_ino);
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
