{
  "targets": [
    {
      "target_name": "fs_attrs",
      "sources": ["fs_attrs.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
