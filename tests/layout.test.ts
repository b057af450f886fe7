/**
 * The project's layout, read from its own imports: which folder may import
 * which, no import cycle, and the top level kept to protocol.ts and the three
 * entry scripts. Read statically (TypeScript's own import scanner), nothing is
 * run; tests/, bench/ and scripts/ are tools around the project, not in it.
 */
import fs from "node:fs";
import path from "node:path";
import t from "tap";
import ts from "typescript";
import { ROOT } from "./helpers/helpers.js";

/** Folders that are not the chat's modules. */
const NOT_MODULES = new Set(["node_modules", "tests", "bench", "scripts", "docs", "coverage", ".git", ".tap"]);
const ENTRY_SCRIPTS = ["server.ts", "client.ts", "launcher.ts"];
const TOP_LEVEL_MODULES = ["protocol.ts", ...ENTRY_SCRIPTS];

/** One import: `from` and `to` are paths from the project folder, with / between parts. */
interface Import {
  from: string;
  to: string;
}

/** Every .ts and .tsx file of the chat, as paths from the project folder. */
function projectModules(dir = ROOT): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return NOT_MODULES.has(entry.name) ? [] : projectModules(full);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [toProjectPath(full)] : [];
  });
}

function toProjectPath(file: string): string {
  return path.relative(ROOT, file).split(path.sep).join("/");
}

/** What `module` imports from the project, statically or with import(); packages and node: modules left out. */
function importsOf(module: string): Import[] {
  const source = fs.readFileSync(path.join(ROOT, module), "utf8");
  const { importedFiles } = ts.preProcessFile(source, true, true);
  return importedFiles
    .map((file) => file.fileName)
    .filter((specifier) => specifier.startsWith("."))
    .map((specifier) => ({ from: module, to: resolveSpecifier(module, specifier) }));
}

/** `./x.js` names x.ts or x.tsx (NodeNext resolution); a name that is no file is kept as written, to be reported. */
function resolveSpecifier(module: string, specifier: string): string {
  const written = path.join(path.dirname(path.join(ROOT, module)), specifier);
  const candidates = [written, written.replace(/\.js$/, ".ts"), written.replace(/\.js$/, ".tsx")];
  const found = candidates.find((file) => fs.existsSync(file) && fs.statSync(file).isFile());
  return toProjectPath(found ?? written);
}

const folderOf = (module: string) => (module.includes("/") ? module.slice(0, module.indexOf("/")) : "");
const describe = ({ from, to }: Import) => `${from} imports ${to}`;

/** A rule on imports: the imports it refuses, each named with the rule. */
interface ImportRule {
  says: string;
  refuses(edge: Import): boolean;
}

const IMPORT_RULES: ImportRule[] = [
  {
    says: "no module imports an entry script (server.ts, client.ts, launcher.ts)",
    refuses: ({ to }) => ENTRY_SCRIPTS.includes(to),
  },
  {
    says: "common/ imports only common/ and protocol.ts",
    refuses: ({ from, to }) => folderOf(from) === "common" && folderOf(to) !== "common" && to !== "protocol.ts",
  },
  {
    says: "server/ imports no client/ or launcher/ module",
    refuses: ({ from, to }) => folderOf(from) === "server" && ["client", "launcher"].includes(folderOf(to)),
  },
  {
    says: "client/ and launcher/ import no server/ module",
    refuses: ({ from, to }) => ["client", "launcher"].includes(folderOf(from)) && folderOf(to) === "server",
  },
  {
    says: "protocol.ts imports only the name and room-name rules (common/names*, common/room-names.ts)",
    refuses: ({ from, to }) => from === "protocol.ts" && !/^common\/(names[^/]*|room-names\.ts)$/.test(to),
  },
];

/** Every way the modules and their imports break the layout, one sentence each. */
function layoutProblems(modules: string[], imports: Import[]): string[] {
  const known = new Set(modules);
  const missing = imports.filter(({ to }) => !known.has(to)).map((edge) => `${describe(edge)}, which is not a module of the project`);
  const topLevel = modules
    .filter((module) => folderOf(module) === "" && !TOP_LEVEL_MODULES.includes(module))
    .map((module) => `${module} is at the top level, where only ${TOP_LEVEL_MODULES.join(", ")} belong: move it into a folder`);
  const refused = IMPORT_RULES.flatMap((rule) => imports.filter((edge) => rule.refuses(edge)).map((edge) => `${describe(edge)}: ${rule.says}`));
  const cycles = importCycles(imports).map((cycle) => `import cycle: ${cycle.join(" → ")}`);
  return [...missing, ...topLevel, ...refused, ...cycles];
}

/** The cycles a depth-first walk meets, each as the modules around it, back to where it starts. */
function importCycles(imports: Import[]): string[][] {
  const targets = new Map<string, string[]>();
  for (const { from, to } of imports) targets.set(from, [...(targets.get(from) ?? []), to]);
  const done = new Set<string>();
  const path: string[] = [];
  const cycles: string[][] = [];
  const visit = (module: string): void => {
    const onPath = path.indexOf(module);
    if (onPath >= 0) {
      cycles.push([...path.slice(onPath), module]);
      return;
    }
    if (done.has(module)) return;
    path.push(module);
    for (const next of targets.get(module) ?? []) visit(next);
    path.pop();
    done.add(module);
  };
  for (const module of [...targets.keys()].sort()) visit(module);
  return cycles;
}

t.test("the project's imports keep its layout", async (t) => {
  const modules = projectModules();
  t.ok(modules.length > 20, `found the project's modules (${modules.length})`);
  for (const module of TOP_LEVEL_MODULES) t.ok(modules.includes(module), `${module} is at the top level`);
  const imports = modules.flatMap(importsOf);
  t.ok(imports.some((edge) => edge.from === "server.ts"), "imports were read");
  t.same(layoutProblems(modules, imports), [], "no problem with the layout");
});

t.test("each broken rule is reported, naming the import", async (t) => {
  const modules = ["protocol.ts", "server.ts", "client.ts", "launcher.ts", "helpers.ts", "common/names.ts", "common/format.ts", "server/hub.ts", "client/view.tsx", "launcher/plan.ts"];
  const bad: Import[] = [
    { from: "client/view.tsx", to: "client.ts" },
    { from: "common/format.ts", to: "client/view.tsx" },
    { from: "server/hub.ts", to: "launcher/plan.ts" },
    { from: "launcher/plan.ts", to: "server/hub.ts" },
    { from: "protocol.ts", to: "common/format.ts" },
    { from: "server.ts", to: "server/gone.ts" },
  ];
  t.same(layoutProblems(modules, bad), [
    "server.ts imports server/gone.ts, which is not a module of the project",
    "helpers.ts is at the top level, where only protocol.ts, server.ts, client.ts, launcher.ts belong: move it into a folder",
    "client/view.tsx imports client.ts: no module imports an entry script (server.ts, client.ts, launcher.ts)",
    "common/format.ts imports client/view.tsx: common/ imports only common/ and protocol.ts",
    "server/hub.ts imports launcher/plan.ts: server/ imports no client/ or launcher/ module",
    "launcher/plan.ts imports server/hub.ts: client/ and launcher/ import no server/ module",
    "protocol.ts imports common/format.ts: protocol.ts imports only the name and room-name rules (common/names*, common/room-names.ts)",
    "import cycle: launcher/plan.ts → server/hub.ts → launcher/plan.ts",
  ]);
  const allowed: Import[] = [
    { from: "protocol.ts", to: "common/names.ts" },
    { from: "common/format.ts", to: "protocol.ts" },
    { from: "client/view.tsx", to: "common/format.ts" },
    { from: "server.ts", to: "server/hub.ts" },
  ];
  t.same(layoutProblems(modules.filter((m) => m !== "helpers.ts"), allowed), [], "what the layout allows is not reported");
});
