import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import Database from "libsql";
import pg from "pg";
import t from "tap";
import { chatBytes, chatId, copyChat, MAX_NOTICES_PER_ACCOUNT, MemoryStore, privateConversation, storable, StoreClosedError, StoreUnavailableError, type RoomRecord, type Store, type StoredChat, type StoreOptions } from "../server/store.js";
import { HISTORY_KEEP } from "../server/limits.js";
import { openStore } from "../server/open-store.js";
import { migrate, MIGRATIONS, openDatabase, schemaVersion, SqliteStore } from "../server/sqlite-store.js";
import { isTransient, MIGRATIONS as PG_MIGRATIONS, PostgresStore } from "../server/postgres-store.js";
import { maskedUrl, StoreOpenError } from "../server/database-url.js";
import { eventually, type Teardown } from "./helpers/helpers.js";
import { Relay, startPostgres } from "./helpers/postgres.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chat-store-"));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => path.join(dir, `store-${++files}.db`);

/** One PostgreSQL server for the file (or POSTGRES_URL's), a database per store. */
const postgres = await startPostgres(t);
t.comment(`PostgreSQL started in ${postgres.startedInMs} ms`);
/** A database with the store's schema: copied for each store, rather than migrated anew (the property tests open dozens). */
const migrated = await postgres.template(t, async (url) => (await PostgresStore.open(url)).close());

/** How to open a fresh, empty store of a kind; `t` cleans up what it needs (a database). */
type Kind = { name: string; open: (t: Teardown, options?: StoreOptions) => Promise<Store> };

/** The stores every shared behaviour runs against. */
const KINDS: Kind[] = [
  { name: "MemoryStore", open: async (_t, options) => new MemoryStore(options) },
  { name: "SqliteStore on a file", open: async (_t, options) => SqliteStore.open(freshFile(), options) },
  { name: "PostgresStore", open: async (t, options) => PostgresStore.open(await databaseFor(t), options) },
];

/**
 * A fresh database for each test; a test that opens store after store (the
 * property tests: one per run, each closed before the next) gets its
 * database emptied again instead, as a CREATE DATABASE costs ~150 ms.
 */
const databases = new WeakMap<Teardown, string>();
async function databaseFor(t: Teardown): Promise<string> {
  const url = databases.get(t);
  if (url === undefined) {
    const fresh = await postgres.freshDatabase(t, migrated);
    databases.set(t, fresh);
    return fresh;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // DELETE rather than TRUNCATE: on tables this small, several times faster.
    await client.query(`DELETE FROM chats; DELETE FROM conversation_sizes; DELETE FROM offline; DELETE FROM accounts;
      DELETE FROM rooms; DELETE FROM bans; DELETE FROM friendships; DELETE FROM notices;
      ALTER SEQUENCE chat_numbers RESTART`);
  } finally {
    await client.end();
  }
  return url;
}

const GENERAL = "#general";
const ANA_BOB = privateConversation("ana", "bob");

/** The nth chat of a conversation, with fields that tell it apart. */
function chat(n: number, conversation = GENERAL, extra: Partial<StoredChat> = {}): StoredChat {
  const base: StoredChat = {
    id: chatId(n),
    conversation,
    client_name: "ana",
    subject: n % 2 ? "" : "Provas",
    message: `message ${n}`,
    date: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  };
  if (conversation.startsWith("#")) base.room = conversation;
  else base.to = "bob";
  return { ...base, ...extra };
}

const ids = (chats: StoredChat[]) => chats.map((c) => Number(c.id));

const account = (key: string) => ({ key, name: key, passwordHash: "h", created: "c" });

function room(name: string, extra: Partial<RoomRecord> = {}): RoomRecord {
  return { name, owner: "ana", topic: "", private: false, operators: ["ana"], members: ["ana"], banned: [], muted: [], invited: [], ...extra };
}

/** A store closed when the test ends; `errors` collects what it reported. */
async function use(t: Teardown, kind: Kind, options: StoreOptions = {}) {
  const errors: Error[] = [];
  const store = await kind.open(t, { onError: (e) => errors.push(e), ...options });
  t.teardown(() => store.close());
  return { store, errors };
}

/** Pages a conversation back to its start, `limit` at a time, and returns every chat met, oldest first. */
async function pageBack(store: Store, conversation: string, limit: number): Promise<StoredChat[]> {
  const pages: StoredChat[][] = [];
  let page = await store.chatsBefore(conversation, limit);
  pages.unshift(page.chats);
  while (page.more) {
    page = await store.chatsBefore(conversation, limit, page.chats[0]!.id);
    pages.unshift(page.chats);
  }
  return pages.flat();
}

for (const kind of KINDS) {
  t.test(kind.name, async (t) => {
    t.test("starts empty", async (t) => {
      const { store } = await use(t, kind);
      t.equal(await store.lastChatNumber(), 0);
      t.same(await store.chatsBefore(GENERAL, 10), { chats: [], more: false });
      t.same(await store.offlineChats("bob", 10), { chats: [], more: false });
      t.same(await store.mailboxCount("bob", ANA_BOB), { chats: 0, bytes: 0, fromConversation: 0 });
      t.same(await store.takeNotices("bob"), []);
      t.equal(await store.getAccount("ana"), undefined);
      t.same(await store.loadRooms(), []);
      t.same(await store.loadBans(), []);
      t.same(await store.friendships("ana"), []);
    });

    t.test("gives the latest N oldest first, then pages back with before, more exact at the edges", async (t) => {
      const { store } = await use(t, kind);
      for (let n = 1; n <= 7; n++) store.appendChat(chat(n));
      store.appendChat(chat(8, "#other"));
      t.same(await store.chatsBefore(GENERAL, 3), { chats: [chat(5), chat(6), chat(7)], more: true });
      t.same(ids((await store.chatsBefore(GENERAL, 3, chatId(5))).chats), [2, 3, 4]);
      t.same(await store.chatsBefore(GENERAL, 3, chatId(2)), { chats: [chat(1)], more: false });
      t.same(await store.chatsBefore(GENERAL, 3, chatId(1)), { chats: [], more: false });
      // A page that ends exactly at the first chat has nothing older.
      t.same(ids((await store.chatsBefore(GENERAL, 3, chatId(4))).chats), [1, 2, 3]);
      t.equal((await store.chatsBefore(GENERAL, 3, chatId(4))).more, false);
      t.equal((await store.chatsBefore(GENERAL, 7)).more, false, "limit equal to the count");
      t.equal((await store.chatsBefore(GENERAL, 6)).more, true, "limit one under the count");
      t.same(await store.chatsBefore(GENERAL, 0), { chats: [], more: true }, "limit 0 still tells whether any exist");
      t.same(ids((await store.chatsBefore(GENERAL, 100, chatId(99))).chats), [1, 2, 3, 4, 5, 6, 7], "before an id not stored");
      t.same(ids((await store.chatsBefore("#other", 10)).chats), [8], "conversations do not mix");
      t.equal(await store.lastChatNumber(), 8);
    });

    t.test("files chats by id whatever the order they come in, and stores an id once", async (t) => {
      const { store } = await use(t, kind, { historyKeep: 3 });
      for (const n of [4, 2, 5, 1, 3]) store.appendChat(chat(n));
      store.appendChat(chat(5, "#other", { message: "a replay" }));
      t.same(await store.chatsBefore(GENERAL, 10), { chats: [chat(3), chat(4), chat(5)], more: false });
      t.same(await store.chatsBefore("#other", 10), { chats: [], more: false });
      store.appendChat(chat(1));
      t.same(ids((await store.chatsBefore(GENERAL, 10)).chats), [3, 4, 5], "an old id comes back pruned");
      t.equal(await store.lastChatNumber(), 5);
    });

    t.test("says which of some chat ids are stored", async (t) => {
      const { store } = await use(t, kind);
      for (const n of [1, 3]) store.appendChat(chat(n));
      t.same([...(await store.chatIdsAmong([chatId(1), chatId(2), chatId(3), chatId(4)]))].sort(), [chatId(1), chatId(3)]);
      t.same([...(await store.chatIdsAmong([]))], []);
    });

    t.test("keeps every field, to and room only when set, and any text", async (t) => {
      const { store } = await use(t, kind);
      const odd = chat(1, GENERAL, { message: "nul\u0000after, line\nbreak, 🎉 olá \u001b[2J", subject: "a\u0000" });
      store.appendChat(odd);
      store.appendChat(chat(2, ANA_BOB));
      const [first] = (await store.chatsBefore(GENERAL, 1)).chats;
      t.same(first, odd);
      t.notOk("to" in first!, "no to on a room chat");
      const [second] = (await store.chatsBefore(ANA_BOB, 1)).chats;
      t.equal(second!.to, "bob");
      t.notOk("room" in second!, "no room on a private chat");
    });

    t.test("sees writes queued just before a read, without flush()", async (t) => {
      const { store } = await use(t, kind);
      await store.createAccount(account("bob"));
      store.appendChat(chat(1));
      store.saveRoom(room("#dev"));
      store.addNotice("bob", "friend ana", { type: "friend" });
      t.equal(await store.lastChatNumber(), 1);
      t.equal((await store.loadRooms()).length, 1);
      t.same(await store.takeNotices("bob"), [{ type: "friend" }]);
    });

    t.test("keeps historyKeep chats per conversation and prunes the oldest", async (t) => {
      const { store } = await use(t, kind, { historyKeep: 3 });
      for (let n = 1; n <= 5; n++) store.appendChat(chat(n));
      store.appendChat(chat(6, "#other"));
      t.same(await store.chatsBefore(GENERAL, 10), { chats: [chat(3), chat(4), chat(5)], more: false });
      t.same(await store.chatsBefore(GENERAL, 10, chatId(3)), { chats: [], more: false });
      await store.flush();
      store.appendChat(chat(7));
      t.same(ids((await store.chatsBefore(GENERAL, 10)).chats), [4, 5, 7], "across batches too");
      t.same(ids((await store.chatsBefore("#other", 10)).chats), [6], "other conversations untouched");
      t.equal(await store.lastChatNumber(), 7);
      t.same(ids((await store.chatsBefore(GENERAL, Infinity)).chats), [4, 5, 7], "a limit over the cap");
    });

    t.test("refuses historyKeep below 1", async (t) => {
      await t.rejects(kind.open(t, { historyKeep: 0 }), RangeError);
      await t.rejects(kind.open(t, { historyKeep: 1.5 }), RangeError);
    });

    t.test("keeps offline chats for an account until they are removed, oldest first, a page at a time", async (t) => {
      const { store } = await use(t, kind);
      store.appendChat(chat(1, ANA_BOB), "bob");
      store.appendChat(chat(2, GENERAL));
      store.appendChat(chat(3, ANA_BOB), "bob");
      store.appendChat(chat(4, privateConversation("ana", "cid")), "cid");
      t.same(await store.offlineChats("bob", 10), { chats: [chat(1, ANA_BOB), chat(3, ANA_BOB)], more: false });
      t.same(await store.offlineChats("bob", 1), { chats: [chat(1, ANA_BOB)], more: true }, "a page, and more wait");
      t.same(ids((await store.offlineChats("bob", 10)).chats), [1, 3], "kept until removed");
      store.removeOffline("bob", chatId(1));
      t.same(ids((await store.offlineChats("bob", 10)).chats), [3], "removed up to the id given");
      store.removeOffline("bob", chatId(3));
      t.same(await store.offlineChats("bob", 10), { chats: [], more: false });
      t.same(ids((await store.chatsBefore(ANA_BOB, 10)).chats), [1, 3], "still in the history");
      store.appendChat(chat(5, ANA_BOB), "bob");
      t.same(ids((await store.offlineChats("bob", 10)).chats), [5], "kept again after a removal");
      t.same(ids((await store.offlineChats("cid", 10)).chats), [4]);
    });

    t.test("counts an account's mailbox, and one conversation's share of it", async (t) => {
      const { store } = await use(t, kind);
      const fromCid = privateConversation("bob", "cid");
      store.appendChat(chat(1, ANA_BOB), "bob");
      store.appendChat(chat(2, ANA_BOB, { message: "olá 🎉" }), "bob");
      store.appendChat(chat(3, fromCid), "bob");
      store.appendChat(chat(4, ANA_BOB), "ana");
      const bytes = [chat(1), chat(2, ANA_BOB, { message: "olá 🎉" }), chat(3)].reduce((sum, c) => sum + chatBytes(c), 0);
      t.same(await store.mailboxCount("bob", ANA_BOB), { chats: 3, bytes, fromConversation: 2 });
      t.same(await store.mailboxCount("bob", fromCid), { chats: 3, bytes, fromConversation: 1 });
      store.removeOffline("bob", chatId(2));
      t.equal((await store.mailboxCount("bob", ANA_BOB)).fromConversation, 0, "what was removed no longer counts");
    });

    t.test("stops reading at the bytes given, the first chat whatever it weighs", async (t) => {
      const { store } = await use(t, kind);
      const big = "x".repeat(1000);
      for (let n = 1; n <= 40; n++) store.appendChat(chat(n, ANA_BOB, { message: big }), "bob");
      const weight = chatBytes(chat(2, ANA_BOB, { message: big })); // the heavier kind (with a subject)
      t.same(ids((await store.chatsBefore(ANA_BOB, 30, undefined, weight * 2.5)).chats), [39, 40]);
      t.equal((await store.chatsBefore(ANA_BOB, 30, undefined, weight * 2.5)).more, true);
      t.same(ids((await store.chatsBefore(ANA_BOB, 30, chatId(39), 1)).chats), [38], "the first, over the bytes");
      t.same(ids((await store.chatsBefore(ANA_BOB, 30, undefined, weight * 25)).chats).length, 25, "across chunks");
      t.same(await store.offlineChats("bob", 30, weight * 2.5), { chats: [1, 2].map((n) => chat(n, ANA_BOB, { message: big })), more: true });
      t.same(ids((await store.offlineChats("bob", 30, weight * 25)).chats).length, 25);
      t.same(ids((await store.offlineChats("bob", 30)).chats).length, 30, "no bytes given: the limit alone");
    });

    t.test("drops an offline chat pruned from its conversation", async (t) => {
      const { store } = await use(t, kind, { historyKeep: 2 });
      for (let n = 1; n <= 3; n++) store.appendChat(chat(n, ANA_BOB), "bob");
      t.same(ids((await store.offlineChats("bob", 10)).chats), [2, 3]);
      t.equal((await store.mailboxCount("bob", ANA_BOB)).chats, 2, "nor counted");
    });

    t.test("keeps notices for an account and gives them once, in order", async (t) => {
      const { store } = await use(t, kind);
      for (const key of ["bob", "cid"]) await store.createAccount(account(key));
      const fields = { type: "friend", client_name: "ana", target: "bob", status: "requested" };
      store.addNotice("bob", "friend ana", fields);
      store.addNotice("cid", "n", { n: 0 });
      store.addNotice("bob", "n", { n: 2, dropped: undefined, nested: { list: [1, "x\u0000"] } });
      fields.status = "changed after queueing";
      t.same(await store.takeNotices("bob"), [
        { type: "friend", client_name: "ana", target: "bob", status: "requested" },
        { n: 2, nested: { list: [1, "x\u0000"] } },
      ]);
      t.same(await store.takeNotices("bob"), [], "taken once");
      store.addNotice("bob", "n", { n: 3 });
      t.same(await store.takeNotices("bob"), [{ n: 3 }]);
      t.same(await store.takeNotices("cid"), [{ n: 0 }]);
    });

    t.test("keeps notices for accounts only, one per subject, the latest MAX_NOTICES_PER_ACCOUNT", async (t) => {
      const { store } = await use(t, kind);
      await store.createAccount(account("bob"));
      store.addNotice("nobody", "invite #dev", { n: 1 });
      t.same(await store.takeNotices("nobody"), [], "a name that is no account gets nothing kept");
      store.addNotice("bob", "invite #dev", { n: 1 });
      store.addNotice("bob", "invite #ops", { n: 2 });
      store.addNotice("bob", "invite #dev", { n: 3 });
      t.same(await store.takeNotices("bob"), [{ n: 2 }, { n: 3 }], "a repeat replaces the earlier one, and comes last");
      for (let n = 0; n < MAX_NOTICES_PER_ACCOUNT + 20; n++) store.addNotice("bob", `invite #r${n}`, { n });
      const kept = (await store.takeNotices("bob")).map((f) => f.n);
      t.same(kept, [...Array(MAX_NOTICES_PER_ACCOUNT).keys()].map((n) => n + 20), "the latest, in order");
    });

    t.test("creates an account once", async (t) => {
      const { store } = await use(t, kind);
      const account = { key: "ana", name: "Ana", passwordHash: "scrypt$salt$hash", created: "2026-01-01T00:00:00.000Z" };
      t.equal(await store.createAccount(account), true);
      t.equal(await store.createAccount({ ...account, name: "ANA", passwordHash: "other" }), false);
      t.same(await store.getAccount("ana"), account);
      t.equal(await store.getAccount("Ana"), undefined, "keys are exact: the caller gives nameKey()s");
    });

    t.test("saves, replaces by name key, and deletes rooms", async (t) => {
      const { store } = await use(t, kind);
      const dev = room("#Dev", { topic: "builds", private: true, operators: ["ana", "bob"], members: ["ana", "bob"], banned: ["eve"], muted: ["dan"], invited: ["cid"] });
      store.saveRoom(dev);
      store.saveRoom(room("#art"));
      dev.members.push("mutated after saving");
      t.same(await store.loadRooms(), [room("#art"), { ...dev, members: ["ana", "bob"] }], "a snapshot, listed by key");
      store.saveRoom(room("#DEV", { topic: "renamed" }));
      t.same((await store.loadRooms()).map((r) => [r.name, r.topic]), [["#art", ""], ["#DEV", "renamed"]]);
      store.deleteRoom("#dev");
      t.same(await store.loadRooms(), [room("#art")]);
    });

    t.test("saves, replaces and removes bans", async (t) => {
      const { store } = await use(t, kind);
      const ban = { kind: "name" as const, value: "eve", reason: "spam", actor: "ana", date: "2026-01-01T00:00:00.000Z" };
      store.saveBan(ban);
      store.saveBan({ ...ban, kind: "address", value: "::1" });
      store.saveBan({ ...ban, reason: "again" });
      t.same(await store.loadBans(), [{ ...ban, kind: "address", value: "::1" }, { ...ban, reason: "again" }]);
      store.removeBan("name", "eve");
      store.removeBan("name", "::1");
      t.same((await store.loadBans()).map((b) => b.value), ["::1"]);
    });

    t.test("keeps one friendship per pair, whoever wrote it last", async (t) => {
      const { store } = await use(t, kind);
      store.saveFriendship({ from: "bob", to: "ana", status: "requested" });
      store.saveFriendship({ from: "cid", to: "dan", status: "requested" });
      t.same(await store.friendships("ana"), [{ from: "bob", to: "ana", status: "requested" }]);
      t.same(await store.friendships("bob"), [{ from: "bob", to: "ana", status: "requested" }]);
      store.saveFriendship({ from: "ana", to: "bob", status: "accepted" });
      store.saveFriendship({ from: "ana", to: "cid", status: "requested" });
      t.same(await store.friendships("ana"), [
        { from: "ana", to: "bob", status: "accepted" },
        { from: "ana", to: "cid", status: "requested" },
      ]);
      store.removeFriendship("bob", "ana");
      t.same(await store.friendships("bob"), []);
      t.same((await store.friendships("cid")).length, 2);
    });

    t.test("has every write queued in one turn after flush()", async (t) => {
      const { store } = await use(t, kind);
      for (let n = 1; n <= 2000; n++) store.appendChat(chat(n, n % 2 ? GENERAL : ANA_BOB), n % 2 ? undefined : "bob");
      for (let n = 0; n < 50; n++) store.saveRoom(room(`#r${n}`));
      await store.createAccount(account("bob"));
      for (let n = 0; n < 50; n++) store.addNotice("bob", `n ${n}`, { n });
      await store.flush();
      t.equal(await store.lastChatNumber(), 2000);
      t.equal((await pageBack(store, GENERAL, 100)).length, 1000);
      t.equal((await store.offlineChats("bob", Infinity)).chats.length, 1000);
      t.equal((await store.loadRooms()).length, 50);
      t.same((await store.takeNotices("bob")).map((f) => f.n), [...Array(50).keys()]);
    });

    t.test("reports a malformed chat id and stores nothing for it", async (t) => {
      const { store, errors } = await use(t, kind);
      store.appendChat(chat(1, GENERAL, { id: "12" }));
      store.appendChat(chat(2));
      await store.flush();
      t.equal(errors.length, 1);
      t.match(errors[0]!.message, /"12"/);
      t.same(ids((await store.chatsBefore(GENERAL, 10)).chats), [2]);
    });

    t.test("ignores writes after close, refuses reads, and closes twice quietly", async (t) => {
      const { store, errors } = await use(t, kind);
      store.appendChat(chat(1));
      await store.close();
      t.doesNotThrow(() => {
        store.appendChat(chat(2));
        store.saveRoom(room("#late"));
        store.saveBan({ kind: "name", value: "x", reason: "", actor: "", date: "" });
        store.removeBan("name", "x");
        store.deleteRoom("#late");
        store.saveFriendship({ from: "a", to: "b", status: "requested" });
        store.removeFriendship("a", "b");
        store.addNotice("bob", "n", {});
        store.removeOffline("bob", chatId(1));
      });
      await t.rejects(store.chatsBefore(GENERAL, 1), StoreClosedError);
      await t.rejects(store.getAccount("ana"), StoreClosedError);
      await t.resolves(store.close());
      t.same(errors, []);
    });

    t.test("pages any sequence of chats back in order, with no gap or duplicate", async (t) => {
      const conversations = [GENERAL, "#dev", ANA_BOB];
      const step = fc.record({ conversation: fc.constantFrom(...conversations), gap: fc.nat(3), flush: fc.boolean() });
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 30 }), async (steps, limit, keep) => {
          const store = await kind.open(t, { historyKeep: keep });
          try {
            const expected = new Map<string, string[]>(conversations.map((c) => [c, []]));
            let n = 0;
            for (const s of steps) {
              n += 1 + s.gap;
              store.appendChat(chat(n, s.conversation));
              expected.get(s.conversation)!.push(chatId(n));
              if (s.flush) await store.flush();
            }
            for (const conversation of conversations) {
              const paged = (await pageBack(store, conversation, limit)).map((c) => c.id);
              if (paged.join() !== expected.get(conversation)!.slice(-keep).join()) return false;
            }
            return (await store.lastChatNumber()) === n;
          } finally {
            await store.close();
          }
        }),
        { numRuns: 40 },
      );
      t.pass("property held");
    });

    t.test("gives back any text as a UTF-8 database keeps it", async (t) => {
      const text = fc.string({ unit: "binary", maxLength: 40 });
      await fc.assert(
        fc.asyncProperty(text, text, text, async (message, subject, clientName) => {
          const store = await kind.open(t);
          try {
            const stored = chat(1, GENERAL, { message, subject, client_name: clientName });
            store.appendChat(stored);
            const [back] = (await store.chatsBefore(GENERAL, 1)).chats;
            return JSON.stringify(back) === JSON.stringify(storable(copyChat(stored)));
          } finally {
            await store.close();
          }
        }),
        { numRuns: 30 },
      );
      t.pass("property held");
    });
  });
}

t.test("openStore", async (t) => {
  t.test("gives a MemoryStore for :memory:", async (t) => {
    const store = await openStore(":memory:");
    t.teardown(() => store.close());
    t.type(store, MemoryStore);
  });

  t.test("gives a SqliteStore for a path", async (t) => {
    const store = await openStore(freshFile(), { historyKeep: 5 });
    t.teardown(() => store.close());
    t.type(store, SqliteStore);
  });

  t.test("uses HISTORY_KEEP by default", async (t) => {
    // Only the boundary matters: HISTORY_KEEP + 1 chats in one batch keep HISTORY_KEEP.
    const store = await openStore(freshFile());
    t.teardown(() => store.close());
    for (let n = 1; n <= HISTORY_KEEP + 1; n++) store.appendChat(chat(n));
    const page = await store.chatsBefore(GENERAL, 1, chatId(3));
    t.same(page, { chats: [chat(2)], more: false });
  });
});

t.test("SqliteStore on a file", async (t) => {
  /** Another connection to the same file: what a crash would leave. */
  function peek(t: Teardown, file: string) {
    const db = new Database(file);
    t.teardown(() => db.close());
    return db;
  }
  const count = (db: Database.Database, table: string) =>
    (db.prepare(`SELECT count(*) AS n FROM ${table}`).get([]) as { n: number }).n;

  t.test("creates the schema in an empty file, and reopening changes nothing", async (t) => {
    const file = freshFile();
    fs.writeFileSync(file, "");
    const store = SqliteStore.open(file);
    store.appendChat(chat(1));
    await store.close();
    const db = peek(t, file);
    t.equal(schemaVersion(db), MIGRATIONS.length);
    t.equal((db.prepare("PRAGMA journal_mode").get([]) as { journal_mode: string }).journal_mode, "wal");
    const schema = () => db.prepare("SELECT name, sql FROM sqlite_schema ORDER BY name").all([]);
    const before = schema();
    t.same(before.map((r) => (r as { name: string }).name).filter((n) => !n.startsWith("sqlite_")), [
      "accounts", "bans", "chats", "chats_by_conversation", "counters", "friendships", "friendships_by_b", "notices", "notices_by_about", "notices_by_account", "offline", "rooms",
    ]);
    const again = SqliteStore.open(file);
    t.same(ids((await again.chatsBefore(GENERAL, 5)).chats), [1]);
    await again.close();
    t.equal(schemaVersion(db), MIGRATIONS.length);
    t.same(schema(), before);
  });

  t.test("upgrades a database made at schema version 1", async (t) => {
    const file = freshFile();
    const old = openDatabase(file);
    migrate(old, 1);
    t.equal(schemaVersion(old), 1);
    old.prepare(`INSERT INTO chats VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run([chatId(7), GENERAL, "ana", null, GENERAL, "", "from v1", "d"]);
    old.prepare(`INSERT INTO accounts VALUES (?, ?, ?, ?)`).run(["ana", "Ana", "h", "c"]);
    old.close();
    const store = SqliteStore.open(file);
    t.teardown(() => store.close());
    t.equal(await store.lastChatNumber(), 7);
    t.equal((await store.chatsBefore(GENERAL, 1)).chats[0]!.message, "from v1");
    t.equal((await store.getAccount("ana"))!.name, "Ana");
    store.saveRoom(room("#dev"));
    store.addNotice("ana", "n", { n: 1 });
    t.equal((await store.loadRooms()).length, 1, "tables of later versions exist");
    t.same(await store.takeNotices("ana"), [{ n: 1 }]);
    t.equal(schemaVersion(peek(t, file)), MIGRATIONS.length);
  });

  t.test("refuses a database from a newer version", async (t) => {
    const file = freshFile();
    const db = openDatabase(file);
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    t.throws(() => SqliteStore.open(file), /schema version/);
  });

  t.test("queues writes rather than writing each at once, and commits them on flush()", async (t) => {
    const file = freshFile();
    const { store } = await use(t, { name: "file", open: async (_t, o) => SqliteStore.open(file, o) });
    const db = peek(t, file);
    for (let n = 1; n <= 100; n++) store.appendChat(chat(n));
    t.equal(count(db, "chats"), 0, "nothing is written while the turn goes on");
    await store.flush();
    t.equal(count(db, "chats"), 100, "all of it after flush()");
  });

  t.test("keeps everything across close and reopen", async (t) => {
    const file = freshFile();
    const first = SqliteStore.open(file, { historyKeep: 4 });
    for (let n = 1; n <= 6; n++) first.appendChat(chat(n, ANA_BOB), "bob");
    await first.createAccount({ key: "ana", name: "Ana", passwordHash: "h", created: "c" });
    first.saveRoom(room("#dev", { private: true, banned: ["eve"] }));
    first.saveBan({ kind: "address", value: "10.0.0.1", reason: "flood", actor: "ana", date: "d" });
    first.saveFriendship({ from: "ana", to: "bob", status: "accepted" });
    await first.createAccount({ key: "bob", name: "Bob", passwordHash: "h", created: "c" });
    first.addNotice("bob", "n", { n: 1 });
    await first.close();

    const store = SqliteStore.open(file, { historyKeep: 4 });
    t.teardown(() => store.close());
    t.equal(await store.lastChatNumber(), 6);
    t.same(ids((await store.chatsBefore(ANA_BOB, 10)).chats), [3, 4, 5, 6]);
    t.same(ids((await store.offlineChats("bob", 10)).chats), [3, 4, 5, 6]);
    t.equal((await store.getAccount("ana"))!.passwordHash, "h");
    t.same(await store.loadRooms(), [room("#dev", { private: true, banned: ["eve"] })]);
    t.same((await store.loadBans()).map((b) => b.value), ["10.0.0.1"]);
    t.same(await store.friendships("bob"), [{ from: "ana", to: "bob", status: "accepted" }]);
    t.same(await store.takeNotices("bob"), [{ n: 1 }]);

    // Pruning counts each conversation once, then keeps count: it must start from what the file holds.
    store.appendChat(chat(7, ANA_BOB));
    t.same(ids((await store.chatsBefore(ANA_BOB, 10)).chats), [4, 5, 6, 7], "pruned to 4 after reopening");
    for (const n of [8, 8]) store.appendChat(chat(n, ANA_BOB));
    t.same(ids((await store.chatsBefore(ANA_BOB, 10)).chats), [5, 6, 7, 8], "a repeated id adds nothing to the count");
  });

  t.test("reports a failed write, keeps the others of its batch, and goes on", async (t) => {
    const file = freshFile();
    const { store, errors } = await use(t, { name: "file", open: async (_t, o) => SqliteStore.open(file, o) });
    peek(t, file).exec("DROP TABLE notices");
    store.appendChat(chat(1));
    await store.createAccount(account("bob"));
    store.addNotice("bob", "n", { n: 1 });
    store.appendChat(chat(2));
    await store.flush();
    t.equal(errors.length, 1);
    t.match(errors[0]!.message, /4 writes \(3 lost\).*notices/);
    t.same(ids((await store.chatsBefore(GENERAL, 10)).chats), [1, 2]);
    store.appendChat(chat(3));
    t.equal(await store.lastChatNumber(), 3, "later batches commit as usual");
  });

  t.test("is also an in-memory SQLite database when opened directly on :memory:", async (t) => {
    const store = SqliteStore.open(":memory:");
    t.teardown(() => store.close());
    store.appendChat(chat(1));
    t.equal(await store.lastChatNumber(), 1);
  });
});

t.test("PostgresStore", async (t) => {
  /** A store on `url`, closed when the test ends; `errors` collects what it reported. */
  async function on(t: Teardown, url: string, options: StoreOptions = {}) {
    const errors: Error[] = [];
    const store = await PostgresStore.open(url, { onError: (e) => errors.push(e), ...options });
    t.teardown(() => store.close());
    return { store, errors };
  }
  /** A plain connection to `url`, to look at what the store wrote. */
  async function peek(t: Teardown, url: string) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    t.teardown(() => client.end());
    return client;
  }

  t.test("creates the schema in an empty database, and reopening changes nothing", async (t) => {
    const url = await postgres.freshDatabase(t);
    const first = await PostgresStore.open(url);
    first.appendChat(chat(1));
    await first.close();
    const db = await peek(t, url);
    const versions = async () => (await db.query("SELECT version FROM schema_migrations ORDER BY version")).rows.map((r) => r.version as number);
    t.same(await versions(), PG_MIGRATIONS.map((_, i) => i + 1));
    const tables = (await db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).rows.map((r) => r.tablename as string);
    t.same(tables, ["accounts", "bans", "chats", "conversation_sizes", "friendships", "notices", "offline", "rooms", "schema_migrations"]);
    const again = await PostgresStore.open(url);
    t.same(ids((await again.chatsBefore(GENERAL, 5)).chats), [1]);
    await again.close();
    t.same(await versions(), PG_MIGRATIONS.map((_, i) => i + 1));
  });

  t.test("two stores opening one new database at once migrate it once", async (t) => {
    const url = await postgres.freshDatabase(t);
    const stores = await Promise.all([PostgresStore.open(url), PostgresStore.open(url), PostgresStore.open(url)]);
    for (const store of stores) t.teardown(() => store.close());
    const { rows } = await (await peek(t, url)).query("SELECT version FROM schema_migrations ORDER BY version");
    t.same(rows.map((r) => r.version as number), PG_MIGRATIONS.map((_, i) => i + 1));
    stores[0]!.appendChat(chat(1));
    await stores[0]!.flush();
    t.equal(await stores[2]!.lastChatNumber(), 1);
  });

  t.test("refuses a database from a newer version, with the password masked", async (t) => {
    const url = await postgres.freshDatabase(t);
    await (await PostgresStore.open(url)).close();
    await (await peek(t, url)).query("INSERT INTO schema_migrations (version) VALUES ($1)", [PG_MIGRATIONS.length + 1]);
    const error = await PostgresStore.open(url).then(() => undefined, (e: unknown) => e as Error);
    t.type(error, StoreOpenError);
    t.match(error!.message, /schema version/);
    if (new URL(url).password) t.notOk(error!.message.includes(new URL(url).password), "no password in the message");
  });

  t.test("keeps text PostgreSQL cannot hold, and text that looks escaped, exactly", async (t) => {
    const { store } = await on(t, await postgres.freshDatabase(t));
    const texts = ["\u0000", "\uffff", "\uffff0", "\uffff\uffff", "a\u0000\uffff0\u0000", "\uffffx\u0000", "plain \uffff inside"];
    texts.forEach((text, i) => store.appendChat(chat(i + 1, GENERAL, { message: text, subject: text, client_name: text })));
    const back = (await store.chatsBefore(GENERAL, 100)).chats;
    t.same(back.map((c) => [c.message, c.subject, c.client_name]), texts.map((text) => [text, text, text]));
    store.saveRoom(room("#dev", { topic: "t\u0000pic" }));
    t.equal((await store.loadRooms())[0]!.topic, "t\u0000pic");
  });

  t.test("two stores on one database: interleaved writes, nothing lost or doubled", async (t) => {
    const url = await postgres.freshDatabase(t);
    const a = (await on(t, url, { historyKeep: 50 })).store;
    const b = (await on(t, url, { historyKeep: 50 })).store;
    // Each numbers its chats from its own reserved block, as two servers would.
    const [firstA, firstB] = await Promise.all([a.reserveChatNumbers(1000), b.reserveChatNumbers(1000)]);
    t.ok(Math.abs(firstA - firstB) >= 1000, "blocks reserved at once do not overlap");
    const sent: string[] = [];
    for (let n = 0; n < 200; n++) {
      const [store, first] = n % 2 ? [b, firstB] : [a, firstA];
      const c = chat(first + n, n % 3 ? GENERAL : ANA_BOB);
      store.appendChat(c, n % 3 ? undefined : "bob");
      sent.push(c.id);
      if (n % 7 === 0) await Promise.all([a.flush(), b.flush()]);
    }
    await Promise.all([a.flush(), b.flush()]);
    const general = await pageBack(a, GENERAL, 17);
    t.equal(general.length, 50, "pruned to historyKeep across both writers");
    t.same(general.map((c) => c.id), [...general.map((c) => c.id)].sort(), "in id order");
    const privately = await pageBack(b, ANA_BOB, 9);
    const expectedPrivate = sent.filter((_, n) => n % 3 === 0).sort().slice(-50);
    t.same(privately.map((c) => c.id), expectedPrivate, "every private chat kept, once");
    // bob's mailbox holds what both wrote, counted in the database; a removal by one store is seen by the other.
    const kept = (await a.offlineChats("bob", 1000)).chats.map((c) => c.id);
    t.same(kept, [...sent.filter((_, n) => n % 3 === 0)].sort().filter((id) => expectedPrivate.includes(id)), "every kept chat, once");
    t.equal((await b.mailboxCount("bob", ANA_BOB)).chats, kept.length, "counted alike from either store");
    b.removeOffline("bob", kept.at(-1)!);
    await b.flush();
    t.same((await a.offlineChats("bob", 1000)).chats, [], "removed for both");
    const db = await peek(t, url);
    const sizes = await db.query("SELECT conversation, size, (SELECT count(*)::int FROM chats c WHERE c.conversation = s.conversation) AS n FROM conversation_sizes s ORDER BY conversation");
    t.same(sizes.rows.map((r) => [r.size, r.n]), [[50, 50], [50, 50]], "the sizes kept match the rows");
  });

  t.test("two stores: one account per name, one answer per notice, later numbers past earlier ones", async (t) => {
    const url = await postgres.freshDatabase(t);
    const a = (await on(t, url)).store;
    const b = (await on(t, url)).store;
    const account = { key: "ana", name: "Ana", passwordHash: "h", created: "c" };
    const created = await Promise.all([a.createAccount(account), b.createAccount({ ...account, passwordHash: "other" })]);
    t.same(created.sort(), [false, true], "exactly one creates it");
    await a.createAccount({ ...account, key: "bob", name: "bob" });
    for (let n = 0; n < 20; n++) (n % 2 ? a : b).addNotice("bob", `about ${n}`, { n });
    await Promise.all([a.flush(), b.flush()]);
    const [noticesA, noticesB] = await Promise.all([a.takeNotices("bob"), b.takeNotices("bob")]);
    t.same([...noticesA, ...noticesB].map((f) => f.n).sort((x, y) => Number(x) - Number(y)), [...Array(20).keys()], "each notice taken once");
    a.saveRoom(room("#dev", { topic: "from a" }));
    await a.flush();
    b.saveRoom(room("#DEV", { topic: "from b" }));
    await b.flush();
    t.same((await a.loadRooms()).map((r) => r.topic), ["from b"], "the later save wins, whichever store wrote it");
    a.appendChat(chat(5000));
    await a.flush();
    t.ok((await b.reserveChatNumbers(10)) > 5000, "numbers continue past a chat another store wrote");
  });

  t.test("tells a database that is away from a write it refuses", async (t) => {
    for (const error of [Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), new Error("Connection terminated unexpectedly")]) {
      t.equal(isTransient(error), true, error.message);
    }
    for (const code of ["57P01", "08006", "53300", "40P01"]) t.equal(isTransient(Object.assign(new Error(code), { code })), true, code);
    for (const code of ["23505", "42601", "22P02", "08P01"]) t.equal(isTransient(Object.assign(new Error(code), { code })), false, code);
  });

  t.test("openStore gives a PostgresStore for a postgres:// or postgresql:// URL", async (t) => {
    const url = await postgres.freshDatabase(t);
    for (const given of [url, url.replace(/^postgres:/, "postgresql:")]) {
      const store = await openStore(given);
      t.type(store, PostgresStore);
      await store.close();
    }
    t.equal(maskedUrl("postgres://chat:s3cret@db.example:5432/chat"), "postgres://chat:***@db.example:5432/chat");
    t.equal(maskedUrl("postgresql://db.example/chat"), "postgresql://db.example/chat");
  });

  t.test("without its database: reads and commits fail as unavailable, nothing crashes, and it comes back by itself", async (t) => {
    const url = await postgres.freshDatabase(t);
    const relay = await Relay.start(t, url);
    const { store, errors } = await on(t, relay.through(url));
    store.appendChat(chat(1));
    await store.flush();
    await relay.cut();
    store.appendChat(chat(2));
    store.saveRoom(room("#kept"));
    const committed = await new Promise<Error | undefined>((resolve) => store.afterCommit(resolve));
    t.type(committed, StoreUnavailableError, "a waiting echo is told the chat was not stored");
    await t.rejects(store.chatsBefore(GENERAL, 10), StoreUnavailableError);
    await t.rejects(store.getAccount("ana"), StoreUnavailableError);
    store.appendChat(chat(3));
    const later = await new Promise<Error | undefined>((resolve) => store.afterCommit(resolve));
    t.type(later, StoreUnavailableError, "told at once while the database is away");
    t.match(errors[0]?.message, /cannot be reached/, "the outage is reported once");
    await relay.restore();
    // No call from here on: the store's own retries find the database again.
    await eventually(() => errors.some((e) => /reachable again/.test(e.message)), "the store reconnects by itself");
    store.appendChat(chat(4));
    t.equal(await new Promise((resolve) => store.afterCommit(resolve)), undefined, "committed again");
    t.same(ids((await store.chatsBefore(GENERAL, 10)).chats), [1, 4], "chats told unavailable were not stored");
    t.same((await store.loadRooms()).map((r) => r.name), ["#kept"], "a room saved meanwhile is written once it is back");
  });
});
