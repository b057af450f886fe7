import assert from "node:assert/strict";
import fc from "fast-check";
import t from "tap";
import {
  Decoder,
  decodeBody,
  encode,
  ERROR_CODES,
  MAX_BODY_BYTES,
  MAX_HEADER_BYTES,
  MAX_HELD_CHUNKS,
  Message,
  nameKey,
  nameProblem,
  ProtocolError,
  type MessageFields,
} from "../protocol.js";

const decodeAll = (bytes: Buffer, chunkSizes: number[] = [bytes.length]) => {
  const decoder = new Decoder();
  const out: Array<Message | ProtocolError> = [];
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = Math.max(1, chunkSizes[i % chunkSizes.length] ?? 1);
    out.push(...decoder.push(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  return out;
};

const wire = (m: Message | ProtocolError) => JSON.parse(JSON.stringify(m));

// Any code point, newlines, control characters and emoji included.
const anyText = fc.string({ unit: "binary", maxLength: 200 });
const chatArb: fc.Arbitrary<MessageFields> = fc.record({
  type: fc.constant("chat" as const),
  client_name: anyText,
  subject: anyText,
  message: fc.oneof(anyText, fc.constantFrom("line 1\nline 2", "🎉👩‍👩‍👧 olá\r\n", "\u0000\u001b[2J", "{}\"\\")),
  date: fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) }).map((d) => d.toISOString()),
});

t.test("encode", async (t) => {
  t.test("writes the header exactly as Content-length: N and counts bytes, not characters", async (t) => {
    const frame = encode({ type: "chat", message: "olá 🎉" });
    const text = frame.toString("utf8");
    const [header, body] = [text.slice(0, text.indexOf("\n")), text.slice(text.indexOf("\n") + 1)];
    t.match(header, /^Content-length: \d+$/);
    t.equal(Number(header.split(": ")[1]), Buffer.byteLength(body));
    t.ok(Buffer.byteLength(body) > body.length, "multi-byte characters make bytes outnumber characters");
  });

  t.test("always includes the seed's four fields as strings", async (t) => {
    const body = JSON.parse(encode({ type: "pong" }).toString().split("\n")[1]!);
    for (const field of ["client_name", "subject", "message", "date"]) t.type(body[field], "string", field);
    t.equal(body.type, "pong");
  });

  t.test("refuses a body over the limit with frame_too_large", async (t) => {
    t.throws(() => encode({ type: "chat", message: "x".repeat(MAX_BODY_BYTES) }), { code: "frame_too_large" });
    t.throws(() => encode({ type: "chat", message: "x".repeat(100) }, 50), { code: "frame_too_large" });
  });
});

t.test("Decoder", async (t) => {
  t.test("accepts any case, spaces around the colon, CRLF, and a seed-style trailing newline", async (t) => {
    const body = '{"client_name":"ana","subject":"","message":"oi","date":"01/01/2024 10:00:00"}\n';
    for (const header of ["Content-length:", "content-LENGTH :", "CONTENT-LENGTH\t:  "]) {
      for (const eol of ["\n", "\r\n"]) {
        const [msg] = new Decoder().push(Buffer.from(`${header}${Buffer.byteLength(body)}${eol}${body}`));
        t.type(msg, Message, JSON.stringify(header + eol));
        t.equal((msg as Message).message, "oi");
        t.equal((msg as Message).bare, true, "a frame without type is a bare seed Message");
        t.equal((msg as Message).type, "chat");
      }
    }
  });

  t.test("a bad header is fatal: error, then nothing more is decoded", async (t) => {
    for (const header of ["Content-type: 5", "Content-length: 12abc", "Content-length: -5", "Content-length:", "hello", ""]) {
      const decoder = new Decoder();
      const out = decoder.push(Buffer.from(`${header}\n{"type":"ping"}`));
      t.equal(out.length, 1, header);
      t.match(out[0], { code: "bad_header", fatal: true }, header);
      t.ok(decoder.failed);
      t.same(decoder.push(encode({ type: "ping" })), [], "stays failed");
    }
  });

  t.test("a header line over the limit is fatal before its end arrives", async (t) => {
    const decoder = new Decoder();
    t.same(decoder.push(Buffer.from("C".repeat(MAX_HEADER_BYTES))), [], "64 bytes may still be a header");
    t.match(decoder.push(Buffer.from("C")), [{ code: "bad_header", fatal: true }]);
  });

  t.test("a declared length over the limit is fatal before any body byte is kept", async (t) => {
    const decoder = new Decoder();
    const out = decoder.push(Buffer.from(`Content-length: ${MAX_BODY_BYTES + 1}\n`));
    t.match(out, [{ code: "frame_too_large", fatal: true }]);
    t.match((out[0] as ProtocolError).message, /65537 bytes exceeds the limit of 65536/);
    t.equal(decoder.bufferedBytes, 0);
    const huge = new Decoder().push(Buffer.from(`Content-length: ${"9".repeat(40)}\n`));
    t.match(huge, [{ code: "frame_too_large" }]);
  });

  t.test("takes its limits as options", async (t) => {
    const decoder = new Decoder({ maxBodyBytes: 10, maxHeaderBytes: 20 });
    t.match(decoder.push(Buffer.from("Content-length: 11\n")), [{ code: "frame_too_large" }]);
    t.match(new Decoder({ maxHeaderBytes: 10 }).push(Buffer.from("Content-length: 1\n")), [{ code: "bad_header" }]);
  });

  t.test("a body that is not JSON, or not an object, is a non-fatal error", async (t) => {
    const decoder = new Decoder();
    const bodies = ["not json", "[1,2]", "null", '"text"', "", "\xff\xfe"];
    const bytes = Buffer.concat([
      ...bodies.map((b) => Buffer.concat([Buffer.from(`Content-length: ${Buffer.byteLength(b, "latin1")}\n`), Buffer.from(b, "latin1")])),
      encode({ type: "ping" }),
    ]);
    const out = decoder.push(bytes);
    t.equal(out.length, bodies.length + 1);
    for (const item of out.slice(0, -1)) t.match(item, { code: "bad_json", fatal: false });
    t.match(out.at(-1), { type: "ping" }, "the stream goes on");
  });

  t.test("invalid UTF-8 inside a JSON string is bad_json", async (t) => {
    const body = Buffer.concat([Buffer.from('{"type":"chat","message":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    t.match(decodeBody(body), { code: "bad_json" });
  });

  t.test("midFrame is true from a frame's first byte to its last, a header with no body yet included", async (t) => {
    const decoder = new Decoder();
    t.equal(decoder.midFrame, false, "nothing received");
    decoder.push(Buffer.from("Conte"));
    t.equal(decoder.midFrame, true, "part of a header");
    decoder.push(Buffer.from("nt-length: 15\n"));
    t.equal(decoder.bufferedBytes, 0, "bufferedBytes cannot tell: the header was consumed");
    t.equal(decoder.midFrame, true, "a whole header, no body byte");
    decoder.push(Buffer.from('{"type"'));
    t.equal(decoder.midFrame, true, "part of the body");
    t.match(decoder.push(Buffer.from(':"ping"}')), [{ type: "ping" }]);
    t.equal(decoder.midFrame, false, "the frame ended");
    decoder.push(Buffer.from("Content-length: 0\n"));
    t.equal(decoder.midFrame, false, "an empty body ends with its header");
    decoder.push(Buffer.from("Content-length: x\n"));
    t.equal(decoder.midFrame, false, "a failed decoder holds no frame");
  });

  t.test("midFrame is false exactly at frame boundaries, whatever the chunks", async (t) => {
    fc.assert(
      fc.property(fc.array(chatArb, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }), (messages, splits) => {
        const frames = messages.map((m) => encode(m));
        const boundaries = new Set(frames.map((_, i) => frames.slice(0, i + 1).reduce((sum, f) => sum + f.length, 0)));
        const bytes = Buffer.concat(frames);
        const decoder = new Decoder();
        for (let offset = 0, i = 0; offset < bytes.length; i++) {
          const end = Math.min(bytes.length, offset + splits[i % splits.length]!);
          decoder.push(bytes.subarray(offset, end));
          assert.equal(decoder.midFrame, !boundaries.has(end), `after byte ${end}`);
          offset = end;
        }
      }),
      { numRuns: 200 },
    );
    t.pass("midFrame matched the frame boundaries");
  });

  t.test("a 64 KiB body sent one byte at a time holds a bounded number of chunks", async (t) => {
    const prefix = '{"type":"chat","message":"';
    const text = "é".repeat((MAX_BODY_BYTES - prefix.length - 2) / 2);
    const body = Buffer.from(`${prefix}${text}"}`);
    t.equal(body.length, MAX_BODY_BYTES);
    const frame = Buffer.concat([Buffer.from(`Content-length: ${body.length}\n`), body]);
    const decoder = new Decoder();
    let mostHeld = 0;
    const out: Array<Message | ProtocolError> = [];
    for (let i = 0; i < frame.length; i++) {
      out.push(...decoder.push(frame.subarray(i, i + 1)));
      mostHeld = Math.max(mostHeld, decoder.heldChunks);
    }
    t.ok(mostHeld <= MAX_HELD_CHUNKS, `held at most ${mostHeld} chunks (limit ${MAX_HELD_CHUNKS})`);
    t.equal(out.length, 1);
    t.equal((out[0] as Message).message, text, "the message decodes whole");
    t.equal(decoder.heldChunks, 0);
    t.equal(decoder.bufferedBytes, 0);
  });
});

t.test("decodeBody validates fields", async (t) => {
  const body = (value: unknown) => Buffer.from(JSON.stringify(value));
  t.match(decodeBody(body({ type: "dance" })), { code: "unknown_type" });
  t.match(decodeBody(body({ type: 5 })), { code: "bad_message" });
  t.match(decodeBody(body({ type: "chat", message: 5 })), { code: "bad_message" });
  t.match(decodeBody(body({ type: "list", users: [1] })), { code: "bad_message" });
  t.match(decodeBody(body({ subject: "no message" })), { code: "bad_message" });
  t.match(decodeBody(body({ type: "chat", message: "hi", extra: { any: 1 } })), { type: "chat", message: "hi" });
  t.notOk("extra" in wire(decodeBody(body({ type: "ping", extra: 1 })) as Message), "unknown fields are dropped");
});

t.test("names follow the seeds' rules", async (t) => {
  for (const ok of ["ana", "Ana_Maria", "João", "user42", "Юлия", "李雷", "नमस्ते", "_", "a".repeat(32)]) {
    t.equal(nameProblem(ok), undefined, ok);
  }
  const refused: Array<[string, RegExp]> = [
    ["", /empty/],
    ["ana maria", /spaces/],
    [" ana", /spaces/],
    ["a".repeat(33), /at most 32/],
    ["ana!", /letters, digits and _/],
    ["a-b", /letters, digits and _/],
    ["😀", /letters, digits and _/],
    ["Server", /reserved/],
  ];
  for (const [name, why] of refused) t.match(nameProblem(name), why, JSON.stringify(name));
  t.equal(nameKey("ANA"), nameKey("ana"), "compared without case");
  t.equal(nameKey("Jose\u0301"), nameKey("José"), "composed and decomposed accents are the same name");
});

t.test("properties of the framing", async (t) => {
  t.test("any list of messages round-trips, whatever the chunk boundaries", async (t) => {
    fc.assert(
      fc.property(fc.array(chatArb, { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 10 }), (messages, splits) => {
        const bytes = Buffer.concat(messages.map((m) => encode(m)));
        const out = decodeAll(bytes, splits);
        assert.deepEqual(out.map((m) => wire(m as Message)), messages.map((m) => wire(new Message(m))));
      }),
      { numRuns: 300 },
    );
    t.pass("300 generated streams decoded to the messages encoded");
  });

  t.test("one byte per chunk gives the same messages as one chunk", async (t) => {
    fc.assert(
      fc.property(fc.array(chatArb, { minLength: 1, maxLength: 5 }), (messages) => {
        const bytes = Buffer.concat(messages.map((m) => encode(m)));
        assert.deepEqual(decodeAll(bytes, [1]).map(wire), decodeAll(bytes).map(wire));
      }),
      { numRuns: 100 },
    );
    t.pass("byte-by-byte decoding matched whole-chunk decoding");
  });

  t.test("the header counts UTF-8 bytes of the body", async (t) => {
    fc.assert(
      fc.property(chatArb, (m) => {
        const frame = encode(m);
        const newline = frame.indexOf(0x0a);
        const declared = Number(frame.toString("latin1", 0, newline).split(": ")[1]);
        return declared === frame.length - newline - 1;
      }),
    );
    t.pass("declared lengths matched body bytes");
  });

  t.test("arbitrary bytes give messages or a known protocol error, never another exception", async (t) => {
    const validFrame = chatArb.map((m) => new Uint8Array(encode(m)));
    const noise = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.string({ unit: "binary", maxLength: 80 }).map((s) => new Uint8Array(Buffer.from(`Content-length: ${s}\n`))),
      fc.nat({ max: 100 }).chain((n) =>
        fc.uint8Array({ minLength: n, maxLength: n }).map((b) => new Uint8Array(Buffer.concat([Buffer.from(`content-length:${n}\r\n`), b]))),
      ),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(validFrame, noise), { maxLength: 10 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 5 }), (parts, splits) => {
        const out = decodeAll(Buffer.concat(parts), splits);
        const fatal = out.filter((item) => item instanceof ProtocolError && item.fatal);
        for (const item of out) {
          if (item instanceof ProtocolError) assert.ok(ERROR_CODES.includes(item.code), item.code);
          else assert.ok(item instanceof Message);
        }
        // At most one fatal error, and nothing decoded after it.
        return fatal.length <= 1 && (fatal.length === 0 || out.at(-1) === fatal[0]);
      }),
      { numRuns: 300 },
    );
    t.pass("noise gave only messages and known protocol errors");
  });

  t.test("many frames in one chunk and a frame split across many chunks", async (t) => {
    const many = Buffer.concat(Array.from({ length: 1000 }, (_, i) => encode({ type: "chat", message: `#${i}` })));
    const out = new Decoder().push(many);
    t.equal(out.length, 1000);
    t.equal((out[999] as Message).message, "#999");
    const big = encode({ type: "chat", message: "é".repeat(30_000) });
    t.equal((decodeAll(big, [7])[0] as Message).message.length, 30_000);
  });
});
