{
  "targets": [
    {
      "target_name": "fs_attrs",
      "sources": ["fs_attrs.c", "inotify.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
