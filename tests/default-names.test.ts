/** A join without a name gets the first free Usuario<N> in a bounded number of store reads, however many such accounts exist. */
import path from "node:path";
import t from "tap";
import { SqliteStore } from "../server/sqlite-store.js";
import { MemoryStore, type Account } from "../server/store.js";
import { tempDir, testServer } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

/** Counts the store reads that look accounts up. */
class CountingStore extends MemoryStore {
  reads = 0;
  override async getAccount(key: string): Promise<Account | undefined> {
    this.reads++;
    return super.getAccount(key);
  }
  override async accountKeysAmong(keys: readonly string[]): Promise<Set<string>> {
    this.reads++;
    return super.accountKeysAmong(keys);
  }
}

const REGISTERED = 5000;

t.test(`with ${REGISTERED} Usuario<N> accounts, a join without a name reads the store a few times, not once per name`, async (t) => {
  const store = new CountingStore();
  for (let n = 0; n < REGISTERED; n++) {
    await store.createAccount({ key: `usuario${n}`, name: `Usuario${n}`, passwordHash: "x", created: "2026-01-01T00:00:00Z" });
  }
  const { port } = (await testServer(t, { store })).address;
  const first = await Peer.connect(t, port);
  first.send({ type: "join", client_name: "" });
  t.match(await first.next(), { type: "welcome", client_name: `Usuario${REGISTERED}` });
  t.ok(store.reads <= 20, `${store.reads} reads for the first`);
  store.reads = 0;
  const second = await Peer.connect(t, port);
  second.send({ type: "join", client_name: "" });
  t.match(await second.next(), { type: "welcome", client_name: `Usuario${REGISTERED + 1}` });
  t.ok(store.reads <= 2, `${store.reads} reads for the next: the registered ones are not asked about again`);
});

t.test("accountKeysAmong answers which keys are accounts, in one read, in both stores", async (t) => {
  const file = path.join(tempDir(t), "chat.db");
  for (const store of [new MemoryStore(), SqliteStore.open(file)]) {
    t.teardown(() => store.close());
    await store.createAccount({ key: "ana", name: "ana", passwordHash: "x", created: "2026-01-01T00:00:00Z" });
    await store.createAccount({ key: "usuario3", name: "Usuario3", passwordHash: "x", created: "2026-01-01T00:00:00Z" });
    t.same([...(await store.accountKeysAmong(["usuario2", "usuario3", "ana", "zed"]))].sort(), ["ana", "usuario3"]);
    t.same([...(await store.accountKeysAmong([]))], []);
  }
});
