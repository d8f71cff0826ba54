#!/usr/bin/env node
/**
 * The `edged` executable's entry. It is CommonJS so that it runs before anything has used libuv's thread pool
 * (an ES module is read through that pool), which is sized from UV_THREADPOOL_SIZE on first use.
 * node-llama-cpp runs every llama.cpp decode on whichever pool thread is free; with several, consecutive decodes
 * hop between threads and decode ran 2.5-3x slower with 2 llama.cpp threads on a 141 M model (see
 * benchmarks/README.md). One pool thread keeps them on one thread. A user's own UV_THREADPOOL_SIZE still wins.
 */
process.env.UV_THREADPOOL_SIZE ??= "1";
void import("./main.js");
