{
  "targets": [
    {
      "target_name": "edged_quantize",
      "sources": ["quantize.c"],
      "include_dirs": ["include/include", "include/ggml/include"],
      "cflags": ["-std=c11", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["<(llama_lib_dir)/<(llama_lib_file)", "-Wl,-rpath,<(llama_lib_dir)"] }],
        ["OS=='mac'", { "libraries": ["<(llama_lib_dir)/<(llama_lib_file)", "-Wl,-rpath,<(llama_lib_dir)"] }],
        ["OS=='win'", { "libraries": ["<(llama_lib_dir)/<(llama_lib_file)"] }]
      ]
    },
    {
      "target_name": "edged_threadpool",
      "sources": ["threadpool.c"],
      "include_dirs": ["include/include", "include/ggml/include"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra"],
      "conditions": [["OS=='linux'", { "libraries": ["-ldl", "-lpthread"] }]]
    },
    {
      "target_name": "edged_allocator",
      "sources": ["allocator.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra"]
    }
  ]
}
