/** The one ring Durable Object every isolate talks to (its own module: Node-side tests import it). */
export const RING_OBJECT_NAME = "ring";
