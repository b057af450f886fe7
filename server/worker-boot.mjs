// Starts a TypeScript module in a worker thread. A worker does not get the
// TypeScript loader its process started with (tsx's, or the test runner's),
// so it registers tsx's before importing the module named in workerData.entry.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
