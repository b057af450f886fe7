/** The launcher's --text and --web: each server's extra ports, and a text client joining a launched server. */
import t from "tap";
import { gatewayArgs } from "../launcher/plan.js";
import { parseLauncherArgs } from "../launcher.js";
import { freePorts, Script } from "./helpers/helpers.js";
import { LinePeer } from "./helpers/test-clients.js";

t.test("--text and --web give each server ports after every chat port", async (t) => {
  const options = parseLauncherArgs(["--servers", "2", "--port", "9999", "--text", "--web"])!;
  t.match(options, { text: true, web: true });
  t.same(gatewayArgs(options, 0), ["--text-port", "10001", "--web-port", "10003"]);
  t.same(gatewayArgs(options, 1), ["--text-port", "10002", "--web-port", "10004"]);
  t.same(gatewayArgs({ ...options, text: false }, 1), ["--web-port", "10002"]);
  t.same(gatewayArgs({ ...options, text: false, web: false }, 0), []);
  t.throws(() => parseLauncherArgs(["--servers", "2", "--port", "65533", "--text"]), { message: /room for 4 consecutive ports/ });
});

t.test("a launched server with --text and --web: its addresses printed, nc-style clients join its chat", async (t) => {
  const port = await freePorts(3);
  const launcher = new Script(t, "launcher.ts", ["--servers", "1", "--clients", "1", "--port", String(port), "--text", "--web", "--db-dir", t.testdir()]);
  await launcher.waitFor(/\[launcher\] 1 server and 1 client running|\[launcher\] .*running/, { ms: 60_000 });
  await launcher.waitFor(new RegExp(`\\[server:${port}\\] plain text on 127\\.0\\.0\\.1:${port + 1}`));
  await launcher.waitFor(new RegExp(`\\[server:${port}\\] open http://127\\.0\\.0\\.1:${port + 2}/ in a browser`));
  const ana = await LinePeer.joined(t, port + 1, "ana");
  await launcher.waitFor(/\[Usuario0\] .*\*\*\* ana joined/);
  launcher.type("Usuario0 hello ana");
  await ana.waitFor(/Usuario0 >> hello ana/);
  const page = await fetch(`http://127.0.0.1:${port + 2}/`);
  t.equal(page.status, 200);
  launcher.child.kill("SIGTERM");
  t.match(await launcher.exited, { code: 0 });
  await ana.expectClosed();
});
