/** What `npm run check` says about a set of variables: the Worker's own parsers, one line per finding. */
import { parseAlertSettings } from "../../src/core/config/alert-settings.ts";
import { parseOrigins } from "../../src/core/config/origins.ts";
import { parseSettings } from "../../src/core/config/settings.ts";
import { adminSecret } from "../../src/admin/token-rules.ts";

export interface CheckReport {
  readonly ok: boolean;
  readonly lines: string[];
}

/** `secrets`: the names of the secrets the operator says are set (`wrangler secret list`). */
export function checkSettings(vars: Readonly<Record<string, unknown>>, secrets: ReadonlySet<string>): CheckReport {
  const lines: string[] = [];
  let ok = true;
  const settings = parseSettings(vars);
  if (!settings.ok) {
    ok = false;
    for (const e of settings.errors) lines.push(`error   ${e.field}: ${e.message}`);
  } else {
    for (const e of settings.value.warnings) lines.push(`warning ${e.field}: ${e.message}`);
  }
  const origins = parseOrigins(vars.ORIGINS);
  if (!origins.ok) {
    ok = false;
    for (const e of origins.errors) lines.push(`error   ${e.field}: ${e.message}`);
  } else {
    lines.push(`ok      ORIGINS: ${origins.value.length} origin(s): ${origins.value.map((o) => o.id).join(", ")}`);
  }
  // The Durable Object turns alerts off on a bad alert setting (routing goes on); before a deploy it is an error.
  const alerts = parseAlertSettings(vars);
  if (!alerts.ok) {
    ok = false;
    for (const e of alerts.errors) lines.push(`error   ${e.field}: ${e.message}`);
  }
  // A secret's value is only checked when it is given as a variable (local runs); otherwise the
  // operator says whether it is set.
  if (typeof vars.ADMIN_TOKEN === "string") {
    const secret = adminSecret(vars.ADMIN_TOKEN);
    if ("closed" in secret) lines.push(`warning ADMIN_TOKEN: ${secret.closed}`);
  } else if (!secrets.has("ADMIN_TOKEN")) {
    lines.push(
      "warning ADMIN_TOKEN: not said to be set (--secret ADMIN_TOKEN): the admin API stays closed until it is",
    );
  }
  if (ok) lines.push("ok      settings: every variable parses as the Worker will parse it");
  return { ok, lines };
}
