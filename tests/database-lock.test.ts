/** One server per database file: a second one is refused with who holds it; a crashed owner's lock is taken over. */
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import t from "tap";
import { DatabaseInUseError, LOCK_SUFFIX } from "../server/database-lock.js";
import { SqliteStore } from "../server/sqlite-store.js";
import { Script, tempDir } from "./helpers/helpers.js";

t.test("a second store on a file in use is refused, naming the file and the process; once closed the file is free", async (t) => {
  const file = path.join(tempDir(t), "chat.db");
  const first = SqliteStore.open(file);
  t.throws(() => SqliteStore.open(file), new DatabaseInUseError(file, process.pid));
  await first.close();
  t.notOk(existsSync(file + LOCK_SUFFIX), "closing removes the lock");
  const again = SqliteStore.open(file);
  await again.close();
});

t.test("the lock of a process that is gone (kill -9) is taken over", async (t) => {
  const file = path.join(tempDir(t), "chat.db");
  const gone = spawnSync(process.execPath, ["-e", ""]).pid!;
  writeFileSync(file + LOCK_SUFFIX, `${gone}\n`);
  const store = SqliteStore.open(file);
  await store.close();
  t.notOk(existsSync(file + LOCK_SUFFIX));
});

t.test("server.ts on a database another server uses: one clear line, exit code 1, the first unharmed", async (t) => {
  const db = path.join(tempDir(t), "chat.db");
  const first = new Script(t, "server.ts", ["--port", "0", "--db", db]);
  await first.waitFor(/^listening on /m);
  const second = new Script(t, "server.ts", ["--port", "0", "--db", db]);
  t.match(await second.exited, { code: 1 });
  t.match(second.stderr, new RegExp(`The database ${db.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is in use by process ${first.child.pid}`));
  t.notMatch(second.stdout, /listening on/);
  first.child.kill("SIGTERM");
  t.match(await first.exited, { code: 0 });
  t.notOk(existsSync(db + LOCK_SUFFIX), "a clean stop leaves no lock behind");
});
