// @vitest-environment node
// The API types are generated: openapi.json must match the live gateway, and schema.d.ts the file.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const frontend = resolve(__dirname, "../..");
const repoPython = resolve(frontend, "../.venv/bin/python");
const python = process.env.TIMANH_PYTHON ?? (existsSync(repoPython) ? repoPython : "python3");

describe("generated API types", () => {
  it("openapi.json is the gateway's current schema (`make frontend-api` refreshes it)", () => {
    const run = () =>
      execFileSync(python, ["scripts/dump_openapi.py", "--check"], { cwd: frontend, stdio: "pipe" });
    expect(run).not.toThrow();
  });

  it("src/api/schema.d.ts is generated from openapi.json", () => {
    const dir = mkdtempSync(join(tmpdir(), "timanh-schema-"));
    try {
      const out = join(dir, "schema.d.ts");
      const cli = join(frontend, "node_modules/.bin/openapi-typescript");
      execFileSync(cli, ["openapi.json", "-o", out], { cwd: frontend, stdio: "pipe" });
      expect(readFileSync(join(frontend, "src/api/schema.d.ts"), "utf8")).toBe(readFileSync(out, "utf8"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
