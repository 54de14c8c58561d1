/** The health state machine's tunables, picked out of the settings. Pure. */
import type { Settings } from "../config/settings.ts";
import type { HealthSettings } from "./health.ts";

/** The part of `settings` that core/health/health.ts reads. */
export function pickHealthSettings(settings: Settings): HealthSettings {
  return {
    rise: settings.healthRise,
    fall: settings.healthFall,
    ejectAfter: settings.ejectAfter,
    ejectBaseMs: settings.ejectBaseMs,
    ejectMaxMs: settings.ejectMaxMs,
    ejectMaxPercent: settings.ejectMaxPercent,
    ejectWindowMs: settings.ejectWindowMs,
    ejectMinClients: settings.ejectMinClients,
  };
}
