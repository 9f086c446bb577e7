import type { OciSeccompAction, OciSeccompArg } from './oci-spec.js';

/** The node architectures crikit builds seccomp profiles for (Go's GOARCH names). */
export type SeccompNodeArch = 'amd64' | 'arm64';

/** Conditions on a rule: every listed capability held / the node is one of the listed architectures. */
export interface SeccompRuleFilter {
  readonly caps?: readonly string[];
  readonly arches?: readonly SeccompNodeArch[];
}

/**
 * A rule of the RuntimeDefault profile before it is resolved for one container: it applies when
 * `includes` all hold and no part of `excludes` does (the form of moby's profile.json).
 */
export interface SeccompRuleTemplate {
  readonly names: readonly string[];
  readonly action: OciSeccompAction;
  readonly errnoRet?: number;
  readonly args?: readonly OciSeccompArg[];
  readonly includes?: SeccompRuleFilter;
  readonly excludes?: SeccompRuleFilter;
}

/** EPERM: what a denied syscall returns. */
export const EPERM = 1;
/** ENOSYS: returned for clone3 so that libcs fall back to clone, whose flags can be filtered. */
export const ENOSYS = 38;

// clone(2) flags that create namespaces: CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET.
const CLONE_NAMESPACE_FLAGS = 0x00020000 + 0x02000000 + 0x04000000 + 0x08000000 + 0x10000000 + 0x20000000 + 0x40000000;

// Never allowed, whatever the capabilities: kexec_load, kexec_file_load, swapon, swapoff, keyctl, add_key,
// request_key, io_uring_*, nfsservctl, uselib, ustat, sysfs, _sysctl, vm86, vm86old, create_module,
// get_kernel_syms, query_module, memfd_secret. The default action refuses them with EPERM.

// Syscalls any process needs, harmless inside a container's namespaces and cgroups. Names that do
// not exist on an architecture (the 32-bit `*32`, `*_time64` variants) are skipped by runc there.
const COMMON: readonly string[] = [
  // files and directories
  'access', 'chdir', 'chmod', 'chown', 'chown32', 'close', 'close_range', 'copy_file_range', 'creat', 'dup', 'dup2', 'dup3',
  'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate', 'fchdir', 'fchmod', 'fchmodat', 'fchmodat2', 'fchown',
  'fchown32', 'fchownat', 'fcntl', 'fcntl64', 'fdatasync', 'flock', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64',
  'fsync', 'ftruncate', 'ftruncate64', 'futimesat', 'getcwd', 'getdents', 'getdents64', 'ioctl', 'lchown', 'lchown32', 'link',
  'linkat', '_llseek', 'lseek', 'lstat', 'lstat64', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'newfstatat', 'open', 'openat',
  'openat2', 'pread64', 'preadv', 'preadv2', 'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat',
  'readv', 'rename', 'renameat', 'renameat2', 'rmdir', 'sendfile', 'sendfile64', 'splice', 'stat', 'stat64', 'statfs',
  'statfs64', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range', 'syncfs', 'tee', 'truncate', 'truncate64', 'umask',
  'unlink', 'unlinkat', 'utime', 'utimensat', 'utimensat_time64', 'utimes', 'vmsplice', 'write', 'writev', 'cachestat',
  // extended attributes
  'fgetxattr', 'flistxattr', 'fremovexattr', 'fsetxattr', 'getxattr', 'getxattrat', 'lgetxattr', 'listxattr', 'listxattrat',
  'llistxattr', 'lremovexattr', 'lsetxattr', 'removexattr', 'removexattrat', 'setxattr', 'setxattrat',
  // event notification and polling
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2', 'epoll_wait', 'epoll_wait_old',
  'eventfd', 'eventfd2', 'fanotify_mark', 'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch', 'pipe',
  'pipe2', 'poll', 'ppoll', 'ppoll_time64', 'pselect6', 'pselect6_time64', 'select', '_newselect', 'signalfd', 'signalfd4',
  'timerfd_create', 'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64',
  // asynchronous I/O (io_uring stays out: a large kernel attack surface, as in moby's profile)
  'io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'io_setup', 'io_submit',
  'ioprio_get', 'ioprio_set',
  // memory
  'brk', 'madvise', 'membarrier', 'memfd_create', 'mincore', 'mlock', 'mlock2', 'mlockall', 'mmap', 'mmap2', 'mprotect',
  'mremap', 'msync', 'munlock', 'munlockall', 'munmap', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'remap_file_pages',
  'map_shadow_stack', 'mseal',
  // processes, threads and signals
  'capget', 'capset', 'execve', 'execveat', 'exit', 'exit_group', 'fork', 'futex', 'futex_requeue', 'futex_time64',
  'futex_wait', 'futex_waitv', 'futex_wake', 'get_robust_list', 'getpgid', 'getpgrp', 'getpid', 'getppid', 'getpriority',
  'getrlimit', 'getrusage', 'getsid', 'gettid', 'kill', 'pause', 'pidfd_open', 'pidfd_send_signal', 'prctl', 'prlimit64',
  'process_mrelease', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'restart_syscall', 'rseq', 'rt_sigaction',
  'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait',
  'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'seccomp', 'set_robust_list', 'set_tid_address', 'setpgid', 'setpriority',
  'setrlimit', 'setsid', 'sigaltstack', 'sigprocmask', 'sigreturn', 'tgkill', 'tkill', 'ugetrlimit', 'vfork', 'wait4',
  'waitid', 'waitpid', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self',
  // scheduling
  'getcpu', 'sched_get_priority_max', 'sched_get_priority_min', 'sched_getaffinity', 'sched_getattr', 'sched_getparam',
  'sched_getscheduler', 'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_setaffinity', 'sched_setattr',
  'sched_setparam', 'sched_setscheduler', 'sched_yield',
  // credentials
  'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups', 'getgroups32', 'getresgid',
  'getresgid32', 'getresuid', 'getresuid32', 'getuid', 'getuid32', 'setfsgid', 'setfsgid32', 'setfsuid', 'setfsuid32',
  'setgid', 'setgid32', 'setgroups', 'setgroups32', 'setregid', 'setregid32', 'setresgid', 'setresgid32', 'setresuid',
  'setresuid32', 'setreuid', 'setreuid32', 'setuid', 'setuid32',
  // time (reading it; setting it needs CAP_SYS_TIME below)
  'alarm', 'clock_getres', 'clock_getres_time64', 'clock_gettime', 'clock_gettime64', 'clock_nanosleep',
  'clock_nanosleep_time64', 'getitimer', 'gettimeofday', 'nanosleep', 'setitimer', 'time', 'timer_create', 'timer_delete',
  'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64', 'times',
  // sockets
  'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'listen', 'recv', 'recvfrom',
  'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'send', 'sendmmsg', 'sendmsg', 'sendto', 'setsockopt', 'shutdown', 'socket',
  'socketcall', 'socketpair',
  // System V and POSIX IPC (namespaced by the ipc namespace)
  'ipc', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend',
  'mq_timedsend_time64', 'mq_unlink', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'semctl', 'semget', 'semop', 'semtimedop',
  'semtimedop_time64', 'shmat', 'shmctl', 'shmdt', 'shmget',
  // system information
  'getrandom', 'sysinfo', 'uname',
];

/**
 * crikit's RuntimeDefault seccomp profile as data, in the spirit of moby's and containerd's default:
 * the common syscalls are allowed; what changes the kernel or the machine (module loading, kexec,
 * reboot, swap, accounting, clock setting, mounts, namespaces, bpf, perf, keyrings, io_uring) is
 * denied unless the container holds the capability that guards it. Resolve it for one container
 * with `runtimeDefaultSeccompProfile`.
 */
export const RUNTIME_DEFAULT_SECCOMP_RULES: readonly SeccompRuleTemplate[] = Object.freeze([
  { names: COMMON, action: 'SCMP_ACT_ALLOW' },
  // personality(2): only the plain Linux personas and the query value.
  ...[0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((value): SeccompRuleTemplate => ({
    names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }],
  })),
  { names: ['arch_prctl', 'modify_ldt', 'get_thread_area', 'set_thread_area'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
  {
    names: ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'],
    action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] },
  },
  // clone(2) without namespace flags for everyone; with them only for CAP_SYS_ADMIN (allowed below).
  {
    names: ['clone'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_ADMIN'] },
    args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
  },
  // clone3 passes its flags in memory, where seccomp cannot look: fail it with ENOSYS so libcs use clone.
  { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
  {
    names: [
      'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie', 'mount',
      'mount_setattr', 'move_mount', 'name_to_handle_at', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd',
      'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare',
    ],
    action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] },
  },
  { names: ['bpf'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_BPF'] } },
  { names: ['perf_event_open'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_PERFMON'] } },
  { names: ['open_by_handle_at'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_DAC_READ_SEARCH'] } },
  { names: ['reboot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_BOOT'] } },
  { names: ['chroot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT'] } },
  { names: ['delete_module', 'init_module', 'finit_module'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_MODULE'] } },
  { names: ['acct'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_PACCT'] } },
  { names: ['kcmp', 'pidfd_getfd', 'userfaultfd'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_PTRACE'] } },
  { names: ['iopl', 'ioperm'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_RAWIO'] } },
  {
    names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64', 'adjtimex', 'clock_adjtime', 'clock_adjtime64'],
    action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_TIME'] },
  },
  { names: ['vhangup'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_TTY_CONFIG'] } },
  {
    names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'],
    action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_NICE'] },
  },
  { names: ['syslog'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYSLOG'] } },
] satisfies SeccompRuleTemplate[]);
