{
  "targets": [
    {
      "target_name": "fs_attrs",
      "sources": ["fs_attrs.c", "dir_stats.c", "fd_read.c", "inotify.c", "file_pages.c", "memory_pressure.cc"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
