/**
 * A per-subject count of something held open (task streams), capped at `max` each. `take` answers
 * the function that gives the slot back (safe to call more than once), or null when the subject
 * already holds `max`.
 */
export class SubjectSlots {
  readonly #held = new Map<string, number>();

  constructor(readonly max: number) {}

  take(subject: string): (() => void) | null {
    const held = this.#held.get(subject) ?? 0;
    if (held >= this.max) return null;
    this.#held.set(subject, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#held.get(subject) ?? 1) - 1;
      if (left > 0) this.#held.set(subject, left);
      else this.#held.delete(subject);
    };
  }

  held(subject: string): number {
    return this.#held.get(subject) ?? 0;
  }
}
