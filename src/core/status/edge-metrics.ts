/**
 * The edge-wide traffic view's metrics (README "Metrics"): per origin the request and error rates
 * every isolate reported to the Durable Object, the load-aware placement's bound, and how many
 * keys are placed. Hot keys themselves are client address prefixes: they are counted, never
 * exposed as label values (the metrics may be public with STATUS_PUBLIC, and a label per client
 * would grow without bound). Pure.
 */
import type { MetricFamily } from "./metrics-format.ts";

/** What the scrape knows of the edge-wide view (null when the object did not answer). */
export interface EdgeFigures {
  /** Seconds of reports the rates cover. */
  readonly coveredSeconds: number;
  readonly reports: number;
  readonly origins: readonly {
    readonly id: string;
    readonly requestsPerSecond: number;
    readonly errorsPerSecond: number;
    /** The last plan's bound (requests/s); null before a plan or with the bound off. */
    readonly bound: number | null;
  }[];
  readonly placements: { readonly moved: number; readonly split: number; readonly manual: number };
  /** Whether the last plan kept every origin under the bound; null before a plan. */
  readonly withinBound: boolean | null;
}

/** The families; none when the view is unknown, so a gap shows rather than a made-up 0. */
export function edgeMetrics(edge: EdgeFigures | null): MetricFamily[] {
  if (edge === null) return [];
  const perOrigin = (pick: (o: EdgeFigures["origins"][number]) => number | null) =>
    edge.origins.flatMap((o) => {
      const value = pick(o);
      return value === null ? [] : [{ labels: { origin: o.id }, value }];
    });
  const families: MetricFamily[] = [
    {
      name: "lb_edge_requests_per_second",
      help: "Requests per second to the origin, merged over every isolate that reported (the Durable Object's window).",
      type: "gauge",
      samples: perOrigin((o) => o.requestsPerSecond),
    },
    {
      name: "lb_edge_errors_per_second",
      help: "5xx answers and failed attempts per second from the origin, merged over the edge.",
      type: "gauge",
      samples: perOrigin((o) => o.errorsPerSecond),
    },
    {
      name: "lb_edge_load_bound_requests_per_second",
      help: "The load-aware placement's bound for the origin at the last plan (LOAD_BOUND_FACTOR x the pool's mean).",
      type: "gauge",
      samples: perOrigin((o) => o.bound),
    },
    {
      name: "lb_edge_window_seconds",
      help: "Seconds of reports the edge-wide rates cover.",
      type: "gauge",
      samples: [{ value: edge.coveredSeconds }],
    },
    {
      name: "lb_placements",
      help: "Hot client keys placed off their ring primary, by kind (moved whole, split by cookie, pinned by hand).",
      type: "gauge",
      samples: [
        { labels: { kind: "moved" }, value: edge.placements.moved },
        { labels: { kind: "split" }, value: edge.placements.split },
        { labels: { kind: "manual" }, value: edge.placements.manual },
      ],
    },
  ];
  if (edge.withinBound !== null) {
    families.push({
      name: "lb_edge_within_bound",
      help: "1 when the last plan kept every origin under the load bound, else 0.",
      type: "gauge",
      samples: [{ value: edge.withinBound ? 1 : 0 }],
    });
  }
  return families.filter((family) => family.samples.length > 0);
}
