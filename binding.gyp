{
  "targets": [
    {
      "target_name": "procfast",
      "sources": ["native/procfast.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    },
    {
      # netlink sock_diag TCP/UDP tables (src/procfs/inet-diag.ts); /proc/net/tcp is the fallback.
      "target_name": "inet_diag",
      "sources": ["native/inet_diag.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    },
    {
      # Syscall profile by BPF on the raw syscall tracepoints, in bursts (src/trace/bpf.ts); a helper
      # program, not an addon: its exit detaches the probes whatever happens to it.
      "target_name": "procsleuth-bpfcount",
      "type": "executable",
      "sources": ["native/bpfcount.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
