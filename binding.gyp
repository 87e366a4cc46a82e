{
  "targets": [
    {
      "target_name": "procfast",
      "sources": ["native/procfast.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
