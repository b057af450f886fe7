/**
 * A real `redis-server` for a test (Debian's package; `.ci/run` installs it),
 * on a free port, saving nothing, stopped when the test ends. Where it is
 * missing, `hasRedis` is false and the tests that need it say so and skip.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { acceptsConnections } from "../../launcher/cluster-services.js";
import { freePorts, within, type Teardown } from "./helpers.js";

export const hasRedis = spawnSync("redis-server", ["--version"]).status === 0;
export const NO_REDIS = "redis-server is not installed (apt-get install redis-server)";

/** A running redis-server; `restart()` stops it and starts an empty one on the same port, as a crash and restart would. */
export class TestRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(t: Teardown): Promise<TestRedis> {
    const redis = new TestRedis(await freePorts(1));
    t.teardown(() => redis.stop());
    await redis.run();
    return redis;
  }

  /** Kills it (SIGKILL: nothing saved, as a crash) and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill("SIGKILL");
    await once(child, "exit");
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.run();
  }

  private async run(): Promise<void> {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"];
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    // Ready once it accepts a connection: redis-cli-free, a TCP probe.
    await within(
      (async () => {
        for (;;) {
          if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
          if (await acceptsConnections(this.port)) return;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })(),
      "redis-server to accept connections",
    );
  }
}
