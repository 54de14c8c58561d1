/** Typed results of the pure core: a value, or errors that each name their field. */

/** A configuration error that names its field. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** A typed result: the value, or the errors that prevented it. */
export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: FieldError[] };
