/* The function zip's `bootstrap`: execs the bundled loader on the binary, as the sh script it replaces did:
 *   DIR/lib/LOADER --library-path DIR/lib --preload DIR/lib/A:DIR/lib/B:... --argv0 bootstrap DIR/bin/ecr-sweeper ARGS
 * where DIR is argv[0]'s directory (Lambda runs /var/task/bootstrap by its absolute path; "./bootstrap" works too).
 *
 * Why not sh: starting /bin/sh (bash on provided.al2023, dash here) to read a two-line script cost about 1 ms of
 * every cold start (bench/README.md). This file has no libc: a static, freestanding binary of a few KB whose whole
 * start-up is one execve. Why --preload: with only --library-path the loader probes ten hwcaps/tls subdirectories
 * of lib/ per library (about 190 failed opens); libraries named by path are opened directly, and the list is the
 * loader's own breadth-first order (scripts/package writes it), so the symbol search scope is unchanged.
 *
 * With ECRS_BOOTSTRAP_PRINT=1 in the environment it writes the command it would exec, each argument followed by
 * a NUL byte, and exits 0: scripts/run-bootstrap runs that command under qemu-user for a foreign architecture,
 * where the launcher's own execve of an aarch64 loader would need binfmt_misc.
 *
 * Built by scripts/package with ECRS_LOADER (the loader's file name) and ECRS_PRELOAD (colon-separated file names).
 */
#ifndef ECRS_LOADER
#error "ECRS_LOADER is not defined (scripts/package defines it)"
#endif
#ifndef ECRS_PRELOAD
#error "ECRS_PRELOAD is not defined (scripts/package defines it)"
#endif

#if defined(__x86_64__)
#define SYS_WRITE 1
#define SYS_EXECVE 59
#define SYS_EXIT 60
__asm__(".text\n.globl _start\n_start:\n  xor %rbp, %rbp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call launch\n  hlt\n");
static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
#elif defined(__aarch64__)
#define SYS_WRITE 64
#define SYS_EXECVE 221
#define SYS_EXIT 93
__asm__(".text\n.globl _start\n_start:\n  mov x29, #0\n  mov x30, #0\n  mov x0, sp\n  bl launch\n  brk #0\n");
static long sys3(long n, long a, long b, long c) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
#else
#error "bootstrap launcher: only x86_64 and aarch64"
#endif

enum { kPathMax = 4096, kPreloadMax = 4 * 4096, kArgsMax = 4096 };
static char dir_[kPathMax], loader_[kPathMax], libdir_[kPathMax], binary_[kPathMax], preload_[kPreloadMax];

static unsigned long length(const char* s) {
  unsigned long n = 0;
  while (s[n]) ++n;
  return n;
}

__attribute__((noreturn)) static void die(const char* msg) {
  sys3(SYS_WRITE, 2, (long)msg, (long)length(msg));
  sys3(SYS_EXIT, 127, 0, 0);
  for (;;) {
  }
}

/* Appends src to dst (holding *used bytes, capacity cap); dies rather than truncate a path. */
static void append(char* dst, unsigned long* used, unsigned long cap, const char* src) {
  for (unsigned long i = 0; src[i]; ++i) {
    if (*used + 1 >= cap) die("bootstrap: path too long\n");
    dst[(*used)++] = src[i];
  }
  dst[*used] = 0;
}

static void join(char* dst, const char* a, const char* b) {
  unsigned long used = 0;
  append(dst, &used, kPathMax, a);
  append(dst, &used, kPathMax, b);
}

static int is_print_request(char** envp) {
  static const char kKey[] = "ECRS_BOOTSTRAP_PRINT=1";
  for (; *envp; ++envp) {
    unsigned long i = 0;
    while (kKey[i] && (*envp)[i] == kKey[i]) ++i;
    if (!kKey[i] && !(*envp)[i]) return 1;
  }
  return 0;
}

__attribute__((used, noreturn)) void launch(long* sp) {
  const long argc = sp[0];
  char** argv = (char**)(sp + 1);
  char** envp = argv + argc + 1;
  if (argc < 1 || argc > kArgsMax - 16) die("bootstrap: bad argument count\n");

  /* DIR: argv[0] up to its last slash, or "." for a bare name (as the sh script's `${0%/...}` did). */
  unsigned long used = 0, slash = 0, has_slash = 0;
  for (unsigned long i = 0; argv[0][i]; ++i) {
    if (argv[0][i] == '/') slash = i, has_slash = 1;
  }
  if (has_slash) {
    if (slash + 1 >= kPathMax) die("bootstrap: path too long\n");
    for (unsigned long i = 0; i < slash; ++i) dir_[i] = argv[0][i];
    dir_[slash == 0 ? 1 : slash] = 0;
    if (slash == 0) dir_[0] = '/';
  } else {
    dir_[0] = '.';
    dir_[1] = 0;
  }
  join(libdir_, dir_, "/lib");
  join(loader_, libdir_, "/" ECRS_LOADER);
  join(binary_, dir_, "/bin/ecr-sweeper");

  static const char kPreload[] = ECRS_PRELOAD;
  for (unsigned long i = 0, start = 0;; ++i) {
    if (kPreload[i] == ':' || kPreload[i] == 0) {
      if (i > start) {
        if (used) append(preload_, &used, kPreloadMax, ":");
        append(preload_, &used, kPreloadMax, libdir_);
        append(preload_, &used, kPreloadMax, "/");
        for (unsigned long j = start; j < i; ++j) {
          if (used + 1 >= kPreloadMax) die("bootstrap: preload list too long\n");
          preload_[used++] = kPreload[j];
        }
        preload_[used] = 0;
      }
      if (kPreload[i] == 0) break;
      start = i + 1;
    }
  }

  char* args[kArgsMax];
  long n = 0;
  args[n++] = loader_;
  args[n++] = (char*)"--library-path";
  args[n++] = libdir_;
  if (used) {
    args[n++] = (char*)"--preload";
    args[n++] = preload_;
  }
  args[n++] = (char*)"--argv0";
  args[n++] = (char*)"bootstrap";
  args[n++] = binary_;
  for (long i = 1; i < argc; ++i) args[n++] = argv[i];
  args[n] = 0;

  if (is_print_request(envp)) {
    for (long i = 0; i < n; ++i) sys3(SYS_WRITE, 1, (long)args[i], (long)length(args[i]) + 1);
    sys3(SYS_EXIT, 0, 0, 0);
    __builtin_unreachable();
  }
  sys3(SYS_EXECVE, (long)loader_, (long)args, (long)envp);
  die("bootstrap: cannot exec the bundled loader lib/" ECRS_LOADER "\n");
}
