// Starts real origins on loopback for the tests that run inside workerd, and hands their
// bootstrap list to the pool (vitest `provide` → `inject` in vitest.config.ts).
import type { TestProject } from "vitest/node";
import { startOrigins } from "../../scripts/demo-origins.ts";

declare module "vitest" {
  export interface ProvidedContext {
    origins: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const origins = await startOrigins(["alpha", "bravo", "charlie"], {
    control: true,
  });
  project.provide("origins", JSON.stringify(origins.map((o) => ({ id: o.id, url: o.url }))));
  return async () => {
    await Promise.all(origins.map((o) => o.stop()));
  };
}
