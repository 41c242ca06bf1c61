{
  "targets": [
    {
      "target_name": "vireo_native",
      "sources": ["ram-discard.c"],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
