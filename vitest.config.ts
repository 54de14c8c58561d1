import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Three projects: the pure core under plain Node, the Worker and Durable Object inside workerd
// (through the vitest integration), and end-to-end runs of the built worker in workerd
// (Miniflare) against real origins on loopback.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "core",
          include: ["test/core/**/*.test.ts"],
          environment: "node",
          // The property tests run a few seconds each on an idle machine; on 2 loaded cores one
          // took over vitest's default 5 s (slot-ring's sequences of changes, during a bench).
          testTimeout: 30_000,
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            // The bootstrap list points at the loopback origins of test/worker/origins.setup.ts.
            miniflare: {
              bindings: {
                ORIGINS: inject("origins"),
                SNAPSHOT_TTL_MS: "200",
                HEALTH_PATH: "/healthz",
                // The admin API's secret (test/worker/admin.test.ts); production sets it with `wrangler secret put`.
                ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
              },
            },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/{worker,ring-store,admin,status}/**/*.test.ts"],
          globalSetup: ["test/worker/origins.setup.ts", "test/ring-store/alert-receiver.setup.ts"],
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/e2e/build.setup.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
