// Tests for src/probe: the sandbox and the file-access tracer. Small C programs, compiled here
// with gcc, run in the sandbox over this machine's root ("/") or over a tiny root the test
// builds (with a static program), and the recorded accesses are checked.
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "dslim/error.hpp"
#include "dslim/probe.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using dslim::probe::Access;
using dslim::probe::AccessKind;
using dslim::probe::ProbeResult;
using dslim::probe::ProbeSpec;
using dslim::test::TempDir;

namespace {

// One program, one mode per argv[1]. It reports through stdout (the sandbox's writes are thrown
// away) and its exit status.
constexpr const char* kProgram = R"C(
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void* thread_main(void* arg) {
  (void)arg;
  close(open("/etc/hosts", O_RDONLY));
  return NULL;
}

static int try_open(const char* path) {
  int fd = open(path, O_RDONLY);
  if (fd >= 0) { printf("escaped: %s\n", path); close(fd); return 1; }
  return 0;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  struct stat st;
  if (!strcmp(mode, "files")) {
    close(open("/etc/passwd", O_RDONLY));
    stat("/etc/hostname", &st);
    access("/etc/os-release", R_OK);
    struct open_how how = {.flags = O_RDONLY};
    close(syscall(SYS_openat2, AT_FDCWD, "/etc/group", &how, sizeof how));
    struct statx stx;
    statx(AT_FDCWD, "/etc/shells", 0, STATX_BASIC_STATS, &stx);
    symlink("/etc/passwd", "/tmp/dslim-probe-link");
    char buf[256];
    readlink("/tmp/dslim-probe-link", buf, sizeof buf);
    DIR* d = opendir("/etc");
    while (d && readdir(d)) {}
    if (d) closedir(d);
    int fd = open("/tmp/dslim-probe-written", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    fstat(fd, &st);  /* newfstatat(fd, "", AT_EMPTY_PATH): not a path */
    close(fd);
    return 0;
  }
  if (!strcmp(mode, "chdir")) {
    chdir("/usr");
    close(open("share/../lib/os-release", O_RDONLY));
    int fd = open("/etc", O_RDONLY | O_DIRECTORY);
    fchdir(fd);
    stat("passwd", &st);
    return 0;
  }
  if (!strcmp(mode, "at")) {
    int dfd = open("/usr/share", O_RDONLY | O_DIRECTORY);
    close(openat(dfd, "zoneinfo/UTC", O_RDONLY));
    fstatat(dfd, "misc", &st, 0);
    char buf[64];
    readlinkat(dfd, "no-such-link", buf, sizeof buf);
    return 0;
  }
  if (!strcmp(mode, "fork")) {
    pid_t pid = fork();
    if (pid == 0) {
      usleep(300 * 1000);  /* outlives its parent */
      close(open("/etc/group", O_RDONLY));
      _exit(0);
    }
    close(open("/etc/passwd", O_RDONLY));
    printf("child %d\n", pid);
    return 3;
  }
  if (!strcmp(mode, "threads")) {
    pthread_t t;
    pthread_create(&t, NULL, thread_main, NULL);
    pthread_join(t, NULL);
    close(open("/etc/passwd", O_RDONLY));
    return 0;
  }
  if (!strcmp(mode, "exec")) {
    pid_t pid = fork();
    if (pid == 0) {
      execl("/bin/true", "true", (char*)NULL);
      _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child %d status %d\n", pid, status);
    return 0;
  }
  if (!strcmp(mode, "write")) {
    int ok = mkdir("/var/cache/x", 0755) == 0;
    int fd = open("/var/cache/x/file", O_WRONLY | O_CREAT | O_EXCL, 0644);
    ok = ok && fd >= 0 && write(fd, "new", 3) == 3;
    close(fd);
    fd = open("/var/cache/existing", O_WRONLY | O_TRUNC);
    ok = ok && fd >= 0 && write(fd, "changed", 7) == 7;
    close(fd);
    ok = ok && unlink("/var/cache/doomed") == 0;
    ok = ok && rename("/var/cache/moved", "/var/cache/x/moved") == 0;
    char buf[16] = {0};
    fd = open("/var/cache/existing", O_RDONLY);
    read(fd, buf, sizeof buf - 1);
    close(fd);
    ok = ok && !strcmp(buf, "changed") && stat("/var/cache/doomed", &st) != 0;
    printf("%s\n", ok ? "writes ok" : "writes failed");
    return ok ? 0 : 1;
  }
  if (!strcmp(mode, "denied")) {
    /* /var/cache: the host root's, and so the sandbox root's through the idmapped lower. */
    int r = mkdir("/var/cache/dslim-probe-denied", 0755);
    printf("mkdir %d %d\n", r, r ? errno : 0);
    return 0;
  }
  if (!strcmp(mode, "escape")) {
    int escaped = 0;
    chdir("../../../..");
    escaped += try_open("../../../../secret");
    escaped += try_open("/../../../../secret");
    escaped += try_open("/up/secret");
    escaped += try_open("/up-relative/secret");
    symlink("/../../..", "/tmp/mine");
    escaped += try_open("/tmp/mine/secret");
    escaped += try_open("/proc/1/root/../secret");
    escaped += try_open("/proc/self/root/../../secret");
    char cwd[256];
    getcwd(cwd, sizeof cwd);
    printf("cwd %s escaped %d\n", cwd, escaped);
    return escaped;
  }
  if (!strcmp(mode, "forever")) {
    close(open("/etc/passwd", O_RDONLY));
    fflush(stdout);
    for (;;) pause();
  }
  if (!strcmp(mode, "stubborn")) {
    signal(SIGTERM, SIG_IGN);
    if (fork() == 0) {
      setsid();  /* a daemon, ignoring SIGTERM too */
      for (;;) pause();
    }
    close(open("/etc/passwd", O_RDONLY));
    for (;;) pause();
  }
  if (!strcmp(mode, "refused")) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    long r = syscall(SYS_io_uring_setup, 8, &p);
    printf("io_uring_setup %ld %d\n", r, r < 0 ? errno : 0);
    char handle[64] = {0};
    r = syscall(SYS_open_by_handle_at, AT_FDCWD, handle, O_RDONLY);
    printf("open_by_handle_at %ld %d\n", r, r < 0 ? errno : 0);
    /* The x32 ABI's open: bit 30 set on the x86-64 number. */
    r = syscall(0x40000000 | SYS_open, "/etc/passwd", O_RDONLY);
    printf("x32 open %ld %d\n", r, r < 0 ? errno : 0);
    return 0;
  }
  if (!strcmp(mode, "serve")) {
    /* A server that listens late, on 127.0.0.1 or ::1 (argv[3] "6"), and answers GET /NAME
       with /etc/NAME. */
    usleep(200 * 1000);
    int six = argc > 3 && !strcmp(argv[3], "6");
    int s = socket(six ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in4 = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2])),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(atoi(argv[2])),
                               .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    if (bind(s, six ? (struct sockaddr*)&in6 : (struct sockaddr*)&in4,
             six ? sizeof in6 : sizeof in4) != 0 || listen(s, 8) != 0) {
      perror("bind");
      return 1;
    }
    for (;;) {
      int c = accept(s, NULL, NULL);
      char req[1024] = {0}, path[256] = "", file[300], body[4096];
      read(c, req, sizeof req - 1);
      sscanf(req, "GET %255s", path);
      snprintf(file, sizeof file, "/etc%s", path);
      int fd = open(file, O_RDONLY);
      ssize_t n = fd >= 0 ? read(fd, body, sizeof body) : 0;
      char head[128];
      int h = snprintf(head, sizeof head, "HTTP/1.0 %d X\r\n\r\n", fd >= 0 ? 200 : 404);
      write(c, head, h);
      if (n > 0) write(c, body, n);
      close(fd);
      close(c);
    }
  }
  if (!strcmp(mode, "ident")) {
    char host[64] = {0}, cwd[256] = {0};
    gethostname(host, sizeof host);
    getcwd(cwd, sizeof cwd);
    printf("pid %d ppid %d uid %d gid %d host %s cwd %s env %s\n", getpid(), getppid(), getuid(),
           getgid(), host, cwd, getenv("PROBE_VAR") ? getenv("PROBE_VAR") : "-");
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct if_nameindex* names = if_nameindex();
    for (struct if_nameindex* i = names; i && i->if_index; ++i) {
      struct ifreq ifr;
      memset(&ifr, 0, sizeof ifr);
      strncpy(ifr.ifr_name, i->if_name, IFNAMSIZ - 1);
      ioctl(s, SIOCGIFFLAGS, &ifr);
      printf("if %s %s\n", i->if_name, (ifr.ifr_flags & IFF_UP) ? "up" : "down");
    }
    return 0;
  }
  return 99;
}
)C";

struct Programs {
  Programs();
  TempDir dir;
  std::string dynamic;      // for the machine's root
  std::string static_prog;  // for a tiny root
  std::string plain_file;   // not executable
  std::string garbage;      // executable, not a program
  std::string no_loader;    // an ELF whose PT_INTERP is not in the root
};

Programs::Programs() {
  Programs& p = *this;
  fs::permissions(p.dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
  const std::string src = p.dir.str() + "/prog.c";
  std::ofstream(src) << kProgram;
  p.dynamic = p.dir.str() + "/prog";
  p.static_prog = p.dir.str() + "/prog-static";
  p.no_loader = p.dir.str() + "/prog-no-loader";
  dslim::test::run("gcc -O1 -pthread -o " + p.dynamic + " " + src);
  dslim::test::run("gcc -O1 -pthread -static -o " + p.static_prog + " " + src);
  dslim::test::run("gcc -O1 -Wl,--dynamic-linker=/lib/ld-missing.so.1 -o " + p.no_loader + " " +
                   src);
  p.plain_file = p.dir.str() + "/data";
  std::ofstream(p.plain_file) << "not a program\n";
  p.garbage = p.dir.str() + "/garbage";
  std::ofstream(p.garbage) << "\x01\x02\x03 garbage that is no ELF and no script\n";
  fs::permissions(p.garbage, fs::perms::owner_all | fs::perms::others_exec, fs::perm_options::add);
}

// Compiled once for all the tests.
const Programs& programs() {
  static Programs p;
  return p;
}

// Runs the test program (placed at /probe/prog) with `mode`; its stdout is returned in `out`.
ProbeResult probe(const std::string& mode, std::string* out = nullptr,
                  ProbeSpec spec = ProbeSpec{}) {
  if (spec.root.empty()) spec.root = "/";
  if (spec.files.empty()) spec.files = {{programs().dynamic, "/probe/prog"}};
  if (spec.argv.empty()) spec.argv = {"/probe/prog", mode};
  if (spec.env.empty()) spec.env = {"PATH=/usr/bin:/bin"};
  TempDir capture;
  const std::string path = capture.str() + "/stdout";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  spec.stdout_fd = fd;
  ProbeResult r = dslim::probe::run_probe(spec);
  close(fd);
  if (out) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    *out = text.str();
  }
  return r;
}

const Access* find(const ProbeResult& r, AccessKind kind, const std::string& path) {
  for (const Access& a : r.accesses) {
    if (a.kind == kind && a.path == path) return &a;
  }
  return nullptr;
}

bool has(const ProbeResult& r, AccessKind kind, const std::string& path) {
  return find(r, kind, path) != nullptr;
}

std::string dump(const ProbeResult& r) {
  std::string s = "error: " + r.error + "\n";
  for (const Access& a : r.accesses) {
    s += std::string(dslim::probe::to_string(a.kind)) + " " + std::to_string(a.pid) + " " + a.call +
         " " + a.path + (a.write ? " (w)" : "") + "\n";
  }
  return s;
}

// A tiny root holding only the static program.
struct TinyRoot {
  TempDir dir;
  std::string root = dir.str() + "/root";
  TinyRoot() {
    fs::create_directories(root + "/probe");
    fs::copy_file(programs().static_prog, root + "/probe/prog");
    fs::permissions(dir.path(), fs::perms::others_exec | fs::perms::others_read,
                    fs::perm_options::add);
  }
  ProbeSpec spec() const {
    ProbeSpec s;
    s.root = root;
    s.files = {{programs().static_prog, "/probe/prog"}};
    return s;
  }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("a sandbox can be made on this machine") {
  auto why = dslim::probe::sandbox_unavailable();
  INFO((why ? *why : ""));
  CHECK_FALSE(why.has_value());
}

TEST_CASE("open, stat, access, openat2, statx, readlink and getdents64 are recorded") {
  ProbeResult r = probe("files");
  INFO(dump(r));
  REQUIRE(r.started);
  CHECK(r.exit_code == 0);
  CHECK(has(r, AccessKind::Exec, "/probe/prog"));
  CHECK(has(r, AccessKind::Open, "/etc/passwd"));
  CHECK(has(r, AccessKind::Stat, "/etc/hostname"));
  CHECK(has(r, AccessKind::Stat, "/etc/os-release"));
  CHECK(has(r, AccessKind::Open, "/etc/group"));
  CHECK(has(r, AccessKind::Stat, "/etc/shells"));
  CHECK(has(r, AccessKind::Create, "/tmp/dslim-probe-link"));
  CHECK(has(r, AccessKind::Readlink, "/tmp/dslim-probe-link"));
  CHECK(has(r, AccessKind::List, "/etc"));
  const Access* created = find(r, AccessKind::Create, "/tmp/dslim-probe-written");
  REQUIRE(created);
  CHECK(created->write);
  CHECK(created->call == "openat");
  CHECK_FALSE(find(r, AccessKind::Open, "/etc/passwd")->write);
  // The program's libraries, as the loader opened them.
  CHECK(std::any_of(r.accesses.begin(), r.accesses.end(), [](const Access& a) {
    return a.kind == AccessKind::Open && a.path.ends_with("/libc.so.6");
  }));
  // fstat is newfstatat(fd, "", AT_EMPTY_PATH): no path, no record.
  CHECK(std::none_of(r.accesses.begin(), r.accesses.end(),
                     [](const Access& a) { return a.path.empty(); }));
  // The writes stayed in the sandbox.
  CHECK_FALSE(fs::exists("/tmp/dslim-probe-link"));
  CHECK_FALSE(fs::exists("/tmp/dslim-probe-written"));
}

TEST_CASE("relative paths are joined to the working directory, as the sandbox sees it") {
  ProbeResult r = probe("chdir");
  INFO(dump(r));
  REQUIRE(r.started);
  CHECK(has(r, AccessKind::Chdir, "/usr"));
  // Joined, not normalised: the caller resolves ".." inside the root.
  CHECK(has(r, AccessKind::Open, "/usr/share/../lib/os-release"));
  CHECK(has(r, AccessKind::Chdir, "/etc"));  // fchdir, by its descriptor
  CHECK(has(r, AccessKind::Stat, "/etc/passwd"));
}

TEST_CASE("*at calls are joined to their directory descriptor's path") {
  ProbeResult r = probe("at");
  INFO(dump(r));
  REQUIRE(r.started);
  CHECK(has(r, AccessKind::Open, "/usr/share"));
  CHECK(has(r, AccessKind::Open, "/usr/share/zoneinfo/UTC"));
  CHECK(has(r, AccessKind::Stat, "/usr/share/misc"));
  CHECK(has(r, AccessKind::Readlink, "/usr/share/no-such-link"));
}

TEST_CASE("a child that outlives its parent is waited for and traced") {
  std::string out;
  ProbeResult r = probe("fork", &out);
  INFO(dump(r) << out);
  REQUIRE(r.started);
  CHECK(r.exit_code == 3);  // the program's own status, not its child's
  CHECK(r.seconds >= 0.3);
  const Access* parent = find(r, AccessKind::Open, "/etc/passwd");
  const Access* child = find(r, AccessKind::Open, "/etc/group");
  REQUIRE(parent);
  REQUIRE(child);
  CHECK(child->pid != parent->pid);
  CHECK(out == "child " + std::to_string(child->pid) + "\n");
}

TEST_CASE("every thread is traced") {
  ProbeResult r = probe("threads");
  INFO(dump(r));
  REQUIRE(r.started);
  const Access* thread = find(r, AccessKind::Open, "/etc/hosts");
  const Access* main = find(r, AccessKind::Open, "/etc/passwd");
  REQUIRE(thread);
  REQUIRE(main);
  CHECK(thread->pid == main->pid);  // the process, not the thread
}

TEST_CASE("an executed program is recorded with its loader and its own accesses") {
  std::string out;
  ProbeResult r = probe("exec", &out);
  INFO(dump(r) << out);
  REQUIRE(r.started);
  const Access* exec = find(r, AccessKind::Exec, "/bin/true");
  REQUIRE(exec);
  CHECK(exec->call == "execve");
  CHECK(out.starts_with("child " + std::to_string(exec->pid) + " status 0"));
  const Access* loader = find(r, AccessKind::Exec, "/lib64/ld-linux-x86-64.so.2");
  REQUIRE(loader);
  CHECK(loader->call == "binfmt_elf");
  CHECK(std::any_of(r.accesses.begin(), r.accesses.end(), [&](const Access& a) {
    return a.pid == exec->pid && a.kind == AccessKind::Open && a.path.ends_with("/libc.so.6");
  }));
}

TEST_CASE("writes land in the scratch layer, never in the source") {
  TinyRoot tiny;
  fs::create_directories(tiny.root + "/var/cache");
  std::ofstream(tiny.root + "/var/cache/existing") << "orig";
  std::ofstream(tiny.root + "/var/cache/doomed") << "doomed";
  std::ofstream(tiny.root + "/var/cache/moved") << "moved";
  std::string out;
  ProbeResult r = probe("write", &out, tiny.spec());
  INFO(dump(r) << out);
  REQUIRE(r.started);
  CHECK(out == "writes ok\n");
  CHECK(r.exit_code == 0);
  CHECK(has(r, AccessKind::Mkdir, "/var/cache/x"));
  CHECK(has(r, AccessKind::Create, "/var/cache/x/file"));
  CHECK(find(r, AccessKind::Open, "/var/cache/existing")->write);
  CHECK(has(r, AccessKind::Unlink, "/var/cache/doomed"));
  CHECK(has(r, AccessKind::Rename, "/var/cache/moved"));
  CHECK(has(r, AccessKind::Rename, "/var/cache/x/moved"));
  CHECK_FALSE(fs::exists(tiny.root + "/var/cache/x"));
  CHECK(slurp(tiny.root + "/var/cache/existing") == "orig");
  CHECK(slurp(tiny.root + "/var/cache/doomed") == "doomed");
  CHECK(slurp(tiny.root + "/var/cache/moved") == "moved");
  CHECK_FALSE(fs::exists(tiny.root + "/probe/prog.new"));
}

TEST_CASE("the source's files keep their owners inside; writes still stay in the scratch layer") {
  // As root, the lower layers are idmapped: the host's root-owned /var/cache is the sandbox
  // root's, as it will be in the image.
  std::string out;
  ProbeResult r = probe("denied", &out);
  INFO(dump(r) << out);
  REQUIRE(r.started);
  CHECK(out == (geteuid() == 0 ? "mkdir 0 0\n" : "mkdir -1 " + std::to_string(EACCES) + "\n"));
  CHECK(has(r, AccessKind::Mkdir, "/var/cache/dslim-probe-denied"));
  CHECK_FALSE(fs::exists("/var/cache/dslim-probe-denied"));
}

TEST_CASE("a program sees its own root only, whatever path it tries") {
  TinyRoot tiny;
  std::ofstream(tiny.dir.str() + "/secret") << "host secret";
  fs::create_directory_symlink("/../../..", tiny.root + "/up");
  fs::create_directory_symlink("../../..", tiny.root + "/up-relative");
  std::string out;
  ProbeResult r = probe("escape", &out, tiny.spec());
  INFO(dump(r) << out);
  REQUIRE(r.started);
  CHECK(out == "cwd / escaped 0\n");
  CHECK(r.exit_code == 0);
  // Recorded as the sandbox saw them: joined, never the host's paths.
  CHECK(has(r, AccessKind::Chdir, "/../../../.."));
  CHECK(has(r, AccessKind::Open, "/../../../../secret"));
  CHECK(has(r, AccessKind::Open, "/up/secret"));
  for (const Access& a : r.accesses) CHECK_FALSE(a.path.starts_with(tiny.dir.str()));
}

TEST_CASE("a program that never ends is terminated at the timeout, its accesses kept") {
  ProbeSpec spec;
  spec.timeout = std::chrono::milliseconds(300);
  ProbeResult r = probe("forever", nullptr, spec);
  INFO(dump(r));
  CHECK(r.started);
  CHECK(r.timed_out);
  CHECK(r.signal == SIGTERM);
  CHECK(r.seconds < 2.0);
  CHECK(has(r, AccessKind::Open, "/etc/passwd"));
}

TEST_CASE("a tree that ignores SIGTERM is killed 2 s later") {
  ProbeSpec spec;
  spec.timeout = std::chrono::milliseconds(200);
  ProbeResult r = probe("stubborn", nullptr, spec);
  INFO(dump(r));
  CHECK(r.timed_out);
  CHECK(r.signal == SIGKILL);
  CHECK(r.seconds >= 2.0);
  CHECK(r.seconds < 5.0);
  CHECK(has(r, AccessKind::Open, "/etc/passwd"));
}

TEST_CASE("io_uring, open_by_handle_at and x32 calls are refused and recorded") {
  std::string out;
  ProbeResult r = probe("refused", &out);
  INFO(dump(r) << out);
  REQUIRE(r.started);
  const std::string eperm = " -1 " + std::to_string(EPERM) + "\n";
  CHECK(out == "io_uring_setup" + eperm + "open_by_handle_at" + eperm + "x32 open" + eperm);
  auto refused = [&](const std::string& call) {
    return std::any_of(r.accesses.begin(), r.accesses.end(), [&](const Access& a) {
      return a.kind == AccessKind::Refused && a.call == call;
    });
  };
  CHECK(refused("io_uring_setup"));
  CHECK(refused("open_by_handle_at"));
  CHECK(refused("x32:2"));
}

TEST_CASE("the program runs in its own PID, UTS and network namespaces") {
  ProbeSpec spec;
  spec.env = {"PATH=/usr/bin:/bin", "PROBE_VAR=set"};
  spec.workdir = "/etc";
  std::string out;
  ProbeResult r = probe("ident", &out, spec);
  INFO(dump(r) << out);
  REQUIRE(r.started);
  std::istringstream lines(out);
  std::string line;
  std::getline(lines, line);
  CHECK(line == "pid 2 ppid 1 uid 0 gid 0 host dslim-probe cwd /etc env set");
  bool lo_up = false;
  while (std::getline(lines, line)) {
    if (line == "if lo up")
      lo_up = true;
    else
      CHECK(line.ends_with(" down"));  // the kernel's fallback tunnels, if any
  }
  CHECK(lo_up);
}

TEST_CASE("uid and gid are the program's inside the sandbox") {
  ProbeSpec spec;
  spec.uid = 1000;
  spec.gid = 1001;
  std::string out;
  ProbeResult r = probe("ident", &out, spec);
  INFO(dump(r) << out);
  REQUIRE(r.started);
  CHECK(out.starts_with("pid 2 ppid 1 uid 1000 gid 1001 "));
}

TEST_CASE("argv[0] without a slash is looked up on the environment's PATH") {
  ProbeSpec spec;
  spec.argv = {"true"};
  spec.env = {"PATH=/nowhere:/usr/bin"};
  ProbeResult r = probe("", nullptr, spec);
  INFO(dump(r));
  REQUIRE(r.started);
  CHECK(r.exit_code == 0);
  CHECK(has(r, AccessKind::Exec, "/nowhere/true"));
  CHECK(has(r, AccessKind::Exec, "/usr/bin/true"));
}

TEST_CASE("a program that cannot be executed is reported, not thrown") {
  ProbeSpec spec;
  SECTION("not executable") {
    spec.files = {{programs().plain_file, "/probe/data"}};
    spec.argv = {"/probe/data"};
    ProbeResult r = probe("", nullptr, spec);
    CHECK_FALSE(r.started);
    CHECK(r.error ==
          "cannot execute /probe/data: permission denied (not executable, a directory,"
          " or a noexec mount)");
  }
  SECTION("not a program") {
    spec.files = {{programs().garbage, "/probe/garbage"}};
    spec.argv = {"/probe/garbage"};
    ProbeResult r = probe("", nullptr, spec);
    CHECK_FALSE(r.started);
    CHECK(r.error.starts_with("cannot execute /probe/garbage: exec format error"));
  }
  SECTION("missing") {
    spec.argv = {"/probe/nothing"};
    ProbeResult r = probe("", nullptr, spec);
    CHECK_FALSE(r.started);
    CHECK(r.error == "cannot execute /probe/nothing: no such file in the root");
  }
  SECTION("its loader missing") {
    spec.files = {{programs().no_loader, "/probe/prog"}};
    ProbeResult r = probe("ident", nullptr, spec);
    CHECK_FALSE(r.started);
    CHECK(r.error ==
          "cannot execute /probe/prog: its interpreter /lib/ld-missing.so.1 is not in"
          " the root");
  }
  SECTION("not on PATH") {
    spec.argv = {"no-such-program"};
    ProbeResult r = probe("", nullptr, spec);
    CHECK_FALSE(r.started);
    CHECK(r.error == "cannot execute no-such-program: not found on PATH (/usr/bin:/bin)");
  }
  SECTION("a bad working directory") {
    spec.workdir = "/no/such/dir";
    ProbeResult r = probe("ident", nullptr, spec);
    CHECK_FALSE(r.started);
    CHECK(r.error ==
          "cannot change to the working directory /no/such/dir: No such file or directory");
  }
}

TEST_CASE("files are placed through the source's symlinked directories") {
  TinyRoot tiny;
  fs::create_directories(tiny.root + "/usr/bin");
  fs::create_directory_symlink("usr/bin", tiny.root + "/bin");
  ProbeSpec spec = tiny.spec();
  spec.files = {{programs().static_prog, "/bin/prog"}};
  spec.argv = {"/usr/bin/prog", "ident"};
  std::string out;
  ProbeResult r = probe("", &out, spec);
  INFO(dump(r) << out);
  CHECK(r.started);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(fs::exists(tiny.root + "/usr/bin/prog"));  // placed in the scratch layer only
}

TEST_CASE("a sandbox that cannot be set up throws") {
  ProbeSpec spec;
  spec.root = "/no/such/root";
  spec.argv = {"/bin/true"};
  CHECK_THROWS_WITH(dslim::probe::run_probe(spec),
                    "cannot open the probe's root /no/such/root: No such file or directory");
  spec.root = "/";
  spec.files = {{"/no/such/file", "/probe/prog"}};
  CHECK_THROWS_WITH(dslim::probe::run_probe(spec),
                    "cannot read /no/such/file: No such file or directory");
  spec.files = {{programs().dynamic, "probe/prog"}};
  CHECK_THROWS_AS(dslim::probe::run_probe(spec), dslim::Error);
}

namespace {

// Runs `probe_once` in a child that drops to nobody, as a user's own dslim would run; the child
// reports through its exit status (0: the check held) and `out` (what the program printed, or
// the error).
int as_nobody(const std::function<bool(int out_fd)>& probe_once, std::string& out) {
  TempDir capture;
  fs::permissions(capture.path(), fs::perms::all);
  const std::string out_path = capture.str() + "/out";
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 10;
    // setuid makes a process non-dumpable, which leaves its /proc files (uid_map among them)
    // root's: a user's own dslim is dumpable.
    if (setgroups(0, nullptr) == 0 && setgid(65534) == 0 && setuid(65534) == 0 &&
        prctl(PR_SET_DUMPABLE, 1) == 0) {
      try {
        int fd = open(out_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        code = probe_once(fd) ? 0 : 12;
      } catch (const std::exception& e) {
        std::ofstream(out_path) << e.what();
        code = 13;
      }
    }
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  out = slurp(out_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("an unprivileged user gets the same sandbox") {
  std::string out;
  int code = as_nobody(
      [](int fd) {
        ProbeSpec spec;
        spec.root = "/";
        spec.files = {{programs().dynamic, "/probe/prog"}};
        spec.argv = {"/probe/prog", "ident"};
        spec.uid = 1000;
        spec.stdout_fd = fd;
        ProbeResult r = dslim::probe::run_probe(spec);
        return r.started && r.exit_code == 0 && !r.accesses.empty();
      },
      out);
  INFO(out);
  CHECK(code == 0);
  CHECK(out.starts_with("pid 2 ppid 1 uid 1000 gid 0 host dslim-probe"));
}

TEST_CASE("HTTP probe: a server is asked once it listens, then stopped") {
  ProbeSpec spec;
  spec.timeout = std::chrono::seconds(20);
  spec.http_port = 8089;
  spec.http_paths = {"/passwd", "/no-such-file"};
  for (const char* family : {"4", "6"}) {
    INFO("IPv" << family);
    spec.argv = {"/probe/prog", "serve", "8089", family};
    ProbeResult r = probe("", nullptr, spec);
    INFO(dump(r));
    CHECK(r.stopped);
    CHECK_FALSE(r.timed_out);
    CHECK(r.seconds < 10);
    CHECK(r.signal == SIGTERM);
    REQUIRE(r.http.size() == 2);
    CHECK(r.http[0].path == "/passwd");
    CHECK(r.http[0].status == 200);
    CHECK(r.http[0].bytes == fs::file_size("/etc/passwd"));
    CHECK(r.http[1].status == 404);
    CHECK(r.http[1].error.empty());
    // What the server opened only because it was asked.
    CHECK(has(r, AccessKind::Open, "/etc/passwd"));
    CHECK(has(r, AccessKind::Open, "/etc/no-such-file"));
  }
}

TEST_CASE("HTTP probe: a server that never listens or ends first is reported") {
  ProbeSpec spec;
  spec.timeout = std::chrono::milliseconds(800);
  spec.http_port = 8089;
  spec.http_paths = {"/"};
  spec.argv = {"/probe/prog", "forever"};
  ProbeResult r = probe("", nullptr, spec);
  CHECK(r.timed_out);
  CHECK_FALSE(r.stopped);
  REQUIRE(r.http.size() == 1);
  CHECK(r.http[0].status == 0);
  CHECK(r.http[0].error == "port 8089 accepted no connection within the probe's timeout");
  CHECK(has(r, AccessKind::Open, "/etc/passwd"));

  spec.timeout = std::chrono::seconds(10);
  spec.argv = {"/probe/prog", "files"};
  r = probe("", nullptr, spec);
  CHECK(r.exit_code == 0);
  CHECK(r.seconds < 5);
  REQUIRE(r.http.size() == 1);
  CHECK(r.http[0].error == "the program ended before port 8089 accepted a connection");
}

TEST_CASE("HTTP probe: works for an unprivileged user") {
  std::string out;
  int code = as_nobody(
      [](int fd) {
        ProbeSpec spec;
        spec.root = "/";
        spec.files = {{programs().dynamic, "/probe/prog"}};
        spec.argv = {"/probe/prog", "serve", "8090"};
        spec.http_port = 8090;
        spec.http_paths = {"/hostname"};
        spec.stdout_fd = fd;
        ProbeResult r = dslim::probe::run_probe(spec);
        if (r.http.size() == 1 && !r.http[0].error.empty())
          dprintf(fd, "%s", r.http[0].error.c_str());
        return r.stopped && r.http.size() == 1 && r.http[0].status == 200 &&
               has(r, AccessKind::Open, "/etc/hostname");
      },
      out);
  INFO(out);
  CHECK(code == 0);
}

namespace {

// Host pids whose command line holds `marker`.
std::vector<int> processes_with(const std::string& marker) {
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = slurp(e.path() / "cmdline");
    if (cmdline.find(marker) != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

}  // namespace

TEST_CASE("the sandbox dies with its supervisor") {
  const std::string marker = "dslim-marker-" + std::to_string(getpid());
  pid_t supervisor = fork();
  REQUIRE(supervisor >= 0);
  if (supervisor == 0) {
    try {
      ProbeSpec spec;
      spec.root = "/";
      spec.files = {{programs().dynamic, "/probe/prog"}};
      spec.argv = {"/probe/prog", "stubborn", marker};
      dslim::probe::run_probe(spec);
    } catch (...) {
    }
    _exit(0);
  }
  auto wait_for = [&](bool present) {
    for (int i = 0; i < 500; ++i) {
      if (processes_with(marker).empty() != present) return true;
      usleep(10 * 1000);
    }
    return false;
  };
  CHECK(wait_for(true));  // the program and its daemon child
  kill(supervisor, SIGKILL);
  waitpid(supervisor, nullptr, 0);
  CHECK(wait_for(false));
}

TEST_CASE("a program for another machine needs qemu-user registered with binfmt_misc") {
  // An AArch64 ELF header (little-endian, ET_EXEC, e_machine 183).
  std::vector<std::byte> head(64);
  const unsigned char ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
  std::memcpy(head.data(), ident, sizeof ident);
  head[16] = std::byte{2};
  head[18] = std::byte{183};
  TempDir binfmt;
  using dslim::probe::foreign_program_problem;
  CHECK(foreign_program_problem("/app", head, binfmt.str()) ==
        "/app is a program for AArch64 and this machine runs x86-64 ones: probing it needs "
        "qemu-user registered with binfmt_misc (Debian's qemu-user-static), and " +
            binfmt.str() + " has no entry for it");
  // Debian's qemu-aarch64 entry, as /proc/sys/fs/binfmt_misc shows it; first without F.
  const std::string entry =
      "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: P%s\noffset 0\n"
      "magic 7f454c460201010000000000000000000200b700\n"
      "mask ffffffffffffff00fffffffffffffffffeffffff\n";
  char text[512];
  std::snprintf(text, sizeof text, entry.c_str(), "");
  std::ofstream(binfmt.str() + "/qemu-aarch64") << text;
  std::ofstream(binfmt.str() + "/status") << "enabled\n";
  CHECK_THAT(*foreign_program_problem("/app", head, binfmt.str()),
             Catch::Contains("with the F flag (its entry qemu-aarch64 lacks it"));
  std::snprintf(text, sizeof text, entry.c_str(), "F");
  std::ofstream(binfmt.str() + "/qemu-aarch64") << text;
  CHECK_FALSE(foreign_program_problem("/app", head, binfmt.str()));
  // Another machine's entry does not match; this machine's programs need none.
  head[18] = std::byte{243};  // RISC-V
  CHECK_THAT(*foreign_program_problem("/app", head, binfmt.str()), Catch::Contains("for RISC-V"));
  head[18] = std::byte{62};
  CHECK_FALSE(foreign_program_problem("/app", head, "/no/such/dir"));
  CHECK_FALSE(foreign_program_problem("/app.sh", std::vector<std::byte>(64), "/no/such/dir"));
}

TEST_CASE("no user namespaces and not root: dslim refuses to probe and never runs the program") {
  // A user namespace of our own (ids 0-65535 mapped 1:1) whose limit of nested user namespaces
  // is 0, and in it nobody: the sandbox cannot be made, as on a machine with them disabled.
  REQUIRE(geteuid() == 0);  // CI runs as root; the map below needs it
  TempDir work;
  fs::permissions(work.path(), fs::perms::all);
  const std::string marker = work.str() + "/ran", err_path = work.str() + "/err";
  const std::string app = work.str() + "/app.sh";
  std::ofstream(app) << "#!/bin/sh\necho ran > " << marker << "\n";
  fs::permissions(app, fs::perms(0755));
  int go[2], ready[2];
  REQUIRE(pipe(go) == 0);
  REQUIRE(pipe(ready) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(go[1]);
    close(ready[0]);
    char c;
    if (unshare(CLONE_NEWUSER) != 0 || write(ready[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
      _exit(20);
    int fd = open("/proc/sys/user/max_user_namespaces", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) _exit(21);
    close(fd);
    if (setgroups(0, nullptr) != 0) _exit(22);
    if (setgid(65534) != 0) _exit(24);
    if (setuid(65534) != 0) _exit(25);
    if (prctl(PR_SET_DUMPABLE, 1) != 0) _exit(26);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(err, 2);
    const std::string out = "oci:" + work.str() + "/out";
    setenv("XDG_CACHE_HOME", work.str().c_str(), 1);
    execl(DSLIM_BINARY, "dslim", "binary", app.c_str(), "--probe", "", "-o", out.c_str(),
          static_cast<char*>(nullptr));
    _exit(23);
  }
  close(go[0]);
  close(ready[1]);
  char c;
  REQUIRE(read(ready[0], &c, 1) == 1);  // the child is in its user namespace
  close(ready[0]);
  for (const char* name : {"uid_map", "gid_map"}) {
    const std::string path = "/proc/" + std::to_string(pid) + "/" + name;
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    const ssize_t n = fd < 0 ? -1 : write(fd, "0 0 65536\n", 10);
    INFO(path << ": " << std::strerror(errno));
    CHECK(n == 10);
    close(fd);
  }
  REQUIRE(write(go[1], "x", 1) == 1);
  close(go[1]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  const std::string err = slurp(err_path);
  INFO(err);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_THAT(err, Catch::StartsWith("dslim: --probe: no sandbox can be made here: cannot create "
                                    "the sandbox's namespaces"));
  CHECK_THAT(err, Catch::Contains("dslim never runs the program outside one"));
  CHECK_FALSE(fs::exists(marker));
  CHECK_FALSE(fs::exists(work.str() + "/out"));
}
